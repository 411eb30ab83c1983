"""Turn the PyInstaller bundle into a .deb: file layout, Depends from ldd, control file (stdlib)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
APP_ID = "wootric-desk"
METAINFO_ID = "io.github.wootric_desk.WootricDesk"
INSTALL_DIR = Path("opt") / APP_ID
ICON_SIZES: tuple[int, ...] = (16, 32, 48, 64, 128, 256, 512)
# Recommended, not required: a Secret Service for the keyring (without one the app keeps the
# secret in memory and says so) and one font family for Qt on a bare system.
RECOMMENDS: tuple[str, ...] = ("gnome-keyring", "fonts-dejavu-core")
DEFAULT_MAINTAINER = "Wootric Desk maintainers <maintainers@wootric-desk.invalid>"
_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


@dataclass(frozen=True, slots=True)
class SystemLibraries:
    """What the bundle needs from the system: packages found, and sonames found nowhere."""

    packages: tuple[str, ...]
    guessed: tuple[tuple[str, str], ...] = field(default=())  # (soname, package by convention)


@dataclass(frozen=True, slots=True)
class DebPackage:
    """The built .deb and what went into its control file."""

    path: Path
    depends: tuple[str, ...]
    recommends: tuple[str, ...]
    installed_kib: int
    guessed: tuple[tuple[str, str], ...]


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(bundle: Path) -> Iterator[Path]:
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink() and _is_elf(path):
            yield path


def _package_of(library: str) -> str | None:
    """The installed package owning a library, trying both sides of the /usr merge."""
    real = os.path.realpath(library)
    candidates = {library, real}
    for path in list(candidates):
        if path.startswith("/usr/"):
            candidates.add(path[4:])
        else:
            candidates.add("/usr" + path)
    for path in sorted(candidates):
        done = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout:
            return done.stdout.split(":", 1)[0].strip()
    return None


def package_by_convention(soname: str) -> str:
    """Debian's library package naming: libfoo.so.1 -> libfoo1, libfoo-2.0.so.0 -> libfoo-2.0-0."""
    match = re.match(r"^(.*)\.so\.(\d+)", soname)
    if not match:
        return soname
    stem, major = match.groups()
    name = f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"
    return name.lower()  # package names are lower case: libEGL.so.1 -> libegl1


def system_libraries(bundle: Path) -> SystemLibraries:
    """Run ldd over every ELF file as the bootloader would load it; map outside libs to packages.

    The bootloader puts the bundle's own folders first on the library path, so a library the
    bundle carries never counts; only what PyInstaller leaves to the system (glibc, libGL, libxcb,
    Wayland) or could not find on the build host ends up here.
    """
    internal = bundle / "_internal"
    search = [internal, internal / "PySide6" / "Qt" / "lib"]
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(str(p) for p in search))
    outside: set[str] = set()
    missing: set[str] = set()
    bundle_real = os.path.realpath(bundle)
    for path in elf_files(bundle):
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
        for line in done.stdout.splitlines():
            match = _LDD_LINE.match(line)
            if not match:
                continue
            soname, target = match.groups()
            if target == "not found":
                missing.add(soname)
            elif not os.path.realpath(target).startswith(bundle_real + os.sep):
                outside.add(target)
    packages: set[str] = set()
    guessed: list[tuple[str, str]] = []
    for library in sorted(outside):
        owner = _package_of(library)
        if owner is None:
            guessed.append((os.path.basename(library), package_by_convention(os.path.basename(library))))
        else:
            packages.add(owner)
    guessed += [(soname, package_by_convention(soname)) for soname in sorted(missing)]
    packages.update(package for _soname, package in guessed)
    return SystemLibraries(tuple(sorted(packages)), tuple(guessed))


def _installed_version(package: str) -> str | None:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                          text=True)
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def glibc_floor(bundle: Path) -> str | None:
    """The newest GLIBC_x.y symbol version any bundled binary asks for (what dpkg-shlibdeps
    would find), or None without objdump (binutils)."""
    if shutil.which("objdump") is None:
        return None
    newest: tuple[int, ...] = ()
    for path in elf_files(bundle):
        done = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True)
        for match in re.finditer(r"GLIBC_(\d+(?:\.\d+)+)", done.stdout):
            newest = max(newest, tuple(int(part) for part in match.group(1).split(".")))
    return ".".join(map(str, newest)) or None


def _depends_field(packages: tuple[str, ...], libc_floor: str | None) -> tuple[str, ...]:
    """glibc gets a lower bound (from the binaries, else the build host's); others do not."""
    out = []
    for package in packages:
        if package == "libc6":
            version = libc_floor or (_installed_version(package) or "").split("-")[0]
            out.append(f"libc6 (>= {version})" if version else package)
        else:
            out.append(package)
    return tuple(out)


def _tree_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def _install(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def stage_tree(bundle: Path, stage: Path) -> None:
    """The installed file layout: the bundle under /opt, a command, desktop entry, icons, metainfo."""
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(bundle, stage / INSTALL_DIR, symlinks=True)
    command = stage / "usr" / "bin" / APP_ID
    command.parent.mkdir(parents=True)
    # The bootloader finds _internal/ through /proc/self/exe, so a symlink is enough.
    command.symlink_to(Path("/") / INSTALL_DIR / APP_ID)
    share = stage / "usr" / "share"
    _install(RESOURCES / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop")
    _install(RESOURCES / f"{METAINFO_ID}.metainfo.xml", share / "metainfo" / f"{METAINFO_ID}.metainfo.xml")
    icons = RESOURCES / "icons"
    for size in ICON_SIZES:
        _install(icons / f"{APP_ID}-{size}.png",
                 share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png")
    _install(icons / f"{APP_ID}.svg", share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg")
    _install(Path(__file__).resolve().parent / "linux" / "copyright",
             share / "doc" / APP_ID / "copyright")
    for path in [stage, *stage.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def build_deb(bundle: Path, out_dir: Path, work_dir: Path, *, version: str, description: str,
              maintainer: str = DEFAULT_MAINTAINER, compression: str = "xz") -> DebPackage:
    """Stage, write DEBIAN/control and run `dpkg-deb --build --root-owner-group`.

    xz is the smallest and every dpkg reads it; zstd is about 30x faster to build here but
    needs dpkg 1.21.18+ (Debian 12, Ubuntu 21.10 and later) and is about 20% larger.
    """
    stage = work_dir / "deb-root"
    stage_tree(bundle, stage)
    libraries = system_libraries(stage / INSTALL_DIR)
    depends = _depends_field(libraries.packages, glibc_floor(stage / INSTALL_DIR))
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    installed_kib = _tree_kib(stage)
    control = stage / "DEBIAN" / "control"
    control.parent.mkdir(mode=0o755)
    summary, _, rest = description.partition(": ")
    control.write_text(
        f"Package: {APP_ID}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {maintainer}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(depends)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        "Section: utils\n"
        "Priority: optional\n"
        f"Description: {summary}{': ' + rest if rest else ''}\n"
        " Wootric Desk keeps a local copy of a Wootric account's end users so a\n"
        " survey-operations team can filter, edit and export them, offline too;\n"
        " edits sync when the service is reachable. Secrets go to the system keyring.\n"
        " .\n"
        " The package carries its own Python and Qt under /opt/wootric-desk.\n",
        encoding="utf-8",
    )
    control.chmod(0o644)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{APP_ID}_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", f"-Z{compression}", str(stage),
                    str(target)], check=True, stdout=subprocess.DEVNULL, timeout=1800)
    return DebPackage(target, depends, RECOMMENDS, installed_kib, libraries.guessed)
