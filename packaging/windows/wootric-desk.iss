; Inno Setup 6.3+ script for Wootric Desk; packaging\windows\build.ps1 compiles it with
; /DAppVersion=<version from pyproject.toml> after PyInstaller filled packaging\dist\wootric-desk.
; Per-user install by default (no administrator needed); the person may choose all users.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{4583DD28-16A6-4ECF-BBD1-983239AFED9A}
AppName=Wootric Desk
AppVersion={#AppVersion}
AppVerName=Wootric Desk {#AppVersion}
AppPublisher=Wootric Desk contributors
DefaultDirName={autopf}\Wootric Desk
DefaultGroupName=Wootric Desk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=wootric-desk-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\wootric-desk.ico
UninstallDisplayIcon={app}\wootric-desk.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\dist\wootric-desk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Wootric Desk"; Filename: "{app}\wootric-desk.exe"
Name: "{autodesktop}\Wootric Desk"; Filename: "{app}\wootric-desk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\wootric-desk.exe"; Description: "{cm:LaunchProgram,Wootric Desk}"; Flags: nowait postinstall skipifsilent
