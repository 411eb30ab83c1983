# Build Wootric Desk for Windows: PyInstaller bundle, its self-test, then an Inno Setup installer.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Needs: Python 3.11+ (python.org or winget), uv (`py -m pip install uv`), and for the
# installer Inno Setup 6.3+ (`winget install JRSoftware.InnoSetup`; ISCC.exe on PATH or in
# its default folder). Written for Windows 10/11 x64; NOT run in this project's CI or on the
# Linux machines it was written on: see packaging/README.md.
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root
$Version = (& py -3 -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])").Trim()
Write-Host "Building wootric-desk $Version for Windows"

# 1. A build environment from uv.lock: the app's dependencies plus PyInstaller, no test tools.
$env:UV_PROJECT_ENVIRONMENT = Join-Path $Root "packaging\build\venv"
uv sync --frozen --no-dev --group packaging
if ($LASTEXITCODE -ne 0) { throw "uv sync failed" }
$Python = Join-Path $env:UV_PROJECT_ENVIRONMENT "Scripts\python.exe"

# 2. The one-dir bundle: packaging\dist\wootric-desk\wootric-desk.exe (GUI, no console)
#    and wootric-desk-cli.exe (console: the command-line verbs and --self-test).
$Started = Get-Date
& $Python -m PyInstaller --noconfirm --distpath packaging\dist --workpath packaging\build\pyinstaller packaging\wootric-desk.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
$Bundle = Join-Path $Root "packaging\dist\wootric-desk"
$Size = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum
Write-Host ("Bundle: {0:N1} MB in {1:N0} s" -f ($Size / 1MB), ((Get-Date) - $Started).TotalSeconds)

# 3. The bundle's self-test, headless, in a throwaway data folder.
$env:QT_QPA_PLATFORM = "offscreen"
$env:WOOTRIC_DESK_HOME = Join-Path $env:TEMP ("wootric-selftest-" + [guid]::NewGuid())
& (Join-Path $Bundle "wootric-desk-cli.exe") --self-test
$SelfTest = $LASTEXITCODE
Remove-Item Env:QT_QPA_PLATFORM, Env:WOOTRIC_DESK_HOME
if ($SelfTest -ne 0) { Write-Host "Self-test: FAIL"; exit 1 }
Write-Host "Self-test: PASS"

# 4. The installer: packaging\dist\wootric-desk-<version>-setup.exe
$Iscc = Get-Command ISCC.exe -ErrorAction SilentlyContinue
if (-not $Iscc) {
    $Default = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"
    if (Test-Path $Default) { $Iscc = Get-Item $Default }
}
if (-not $Iscc) {
    Write-Host "Inno Setup not found: the bundle is ready, the installer is not (winget install JRSoftware.InnoSetup)"
    exit 0
}
& $Iscc.Source "/DAppVersion=$Version" (Join-Path $PSScriptRoot "wootric-desk.iss")
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
$Setup = Join-Path $Root "packaging\dist\wootric-desk-$Version-setup.exe"
Write-Host ("Installer: {0} ({1:N1} MB)" -f $Setup, ((Get-Item $Setup).Length / 1MB))
