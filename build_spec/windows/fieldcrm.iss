; FieldCRM per-user installer (Inno Setup 6). No administrator rights needed: it installs
; into %LOCALAPPDATA%\Programs\FieldCRM and the rep's Start menu.
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\FieldCRM /DOutputDir=..\..\dist ^
;        /DTouchDate=2026-11-22 /DTouchTime=04:00:00 build_spec\windows\fieldcrm.iss
;
; (build_spec\windows\build.ps1 passes these, TouchDate/TouchTime from SOURCE_DATE_EPOCH.)
; The uninstaller removes the program and leaves the rep's data (database, photos, voice
; notes in %LOCALAPPDATA%\FieldCRM\FieldCRM) unless the rep ticks "also delete my data",
; or a silent uninstall is run with /PURGEDATA.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\FieldCRM"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef TouchDate
  #define TouchDate "current"
#endif
#ifndef TouchTime
  #define TouchTime "current"
#endif

[Setup]
AppId={{6B1F4E0A-3C3B-4F5E-9A53-7C2D0F1CE8A1}
AppName=FieldCRM
AppVersion={#AppVersion}
AppPublisher=FieldCRM
DefaultDirName={autopf}\FieldCRM
DefaultGroupName=FieldCRM
DisableProgramGroupPage=yes
; per user, never elevated: {autopf} is %LOCALAPPDATA%\Programs, {autoprograms} the
; user's Start menu
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=FieldCRM-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayName=FieldCRM
UninstallDisplayIcon={app}\FieldCRM.exe
CloseApplications=yes
; repeatable builds: every installed file gets the same time stamp (SOURCE_DATE_EPOCH)
TimeStampsInUTC=yes
TouchDate={#TouchDate}
TouchTime={#TouchTime}
#ifdef SignToolCommand
SignTool=fieldcrm
SignedUninstaller=yes
#endif

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "zh"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an update replaces the program folder's libraries (never the rep's data)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\FieldCRM"; Filename: "{app}\FieldCRM.exe"; WorkingDir: "{app}"
Name: "{autodesktop}\FieldCRM"; Filename: "{app}\FieldCRM.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Run]
Filename: "{app}\FieldCRM.exe"; Description: "{cm:LaunchProgram,FieldCRM}"; Flags: nowait postinstall skipifsilent

[Code]
const
  DataFolder = '{localappdata}\FieldCRM\FieldCRM';

function PurgeRequested(): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), '/PURGEDATA') = 0 then
      Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Folder: String;
  Purge: Boolean;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  Folder := ExpandConstant(DataFolder);
  if not DirExists(Folder) then
    exit;
  if UninstallSilent then
    Purge := PurgeRequested()
  else
    Purge := MsgBox('FieldCRM has been removed.' + #13#10 + #13#10 +
      'Your customers, contracts, photos and voice notes are still on this computer in' + #13#10 +
      Folder + #13#10 + #13#10 +
      'Delete them too? Anything not yet synced to the server will be lost.' + #13#10 +
      '(Choose No to keep them for a later installation.)',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
  if Purge then
    DelTree(Folder, True, True, True);
end;
