; Gridroom (网格通·指挥室) Windows installer — per machine, silent-capable, presets for IT.
;
; Build (the build does this; any OS with makensis 3.x):
;   makensis -DPAYLOAD=<bundle folder> -DVERSION=0.1.0 -DOUTFILE=gridroom-0.1.0-windows-x64.exe [-DICON=x.ico]
;            [-DTARGET=amd64-unicode] gridroom.nsi
;
; Silent install with the site config preset (values with spaces: quote the value or the whole
; option — both /CA="C:\My Certs\ca.pem" and "/CA=C:\My Certs\ca.pem" work):
;   gridroom-0.1.0-windows-x64.exe /S /SERVER=https://grid.example.gov.cn /CA="C:\My Certs\ca.pem"
;                      /TOWNSHIP=330825002 [/ENCRYPT=1] [/DATADIR=D:\Gridroom] [/LOCK=0]
;                      [/DESKTOP=0] [/SELFTEST=1] [/D=C:\Program Files\Gridroom]
; /D= is NSIS's own: last on the line, never quoted. Exit codes: 0 done, 1 cancelled or failed,
; 2 a bad option (nothing installed), 3 installed but the self-test failed (/SELFTEST=1).
;
; Writes %ProgramData%\Gridroom\site.toml (and ca.pem beside it) when any preset option is given;
; keeps an existing site.toml otherwise (upgrades). Uninstall: "uninstall.exe /S", add /PURGE to
; also delete the site config. Users' own data (%LOCALAPPDATA%\Gridroom) is never touched.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel admin

!ifdef TARGET
  Target ${TARGET}
!endif
!ifndef PAYLOAD
  !error "Define PAYLOAD: the PyInstaller bundle folder (holding gridroom.exe)"
!endif
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef OUTFILE
  !define OUTFILE "gridroom-${VERSION}-windows-x64.exe"
!endif

!define APP "Gridroom"
!define APP_ZH "网格通·指挥室"
!define PUBLISHER "Gridroom"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Gridroom"
!define EXIT_BAD_OPTION 2
!define EXIT_SELFTEST 3

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "WordFunc.nsh"
!include "x64.nsh"
!include "WinVer.nsh"
!include "nsDialogs.nsh"

Name "${APP_ZH} ${APP}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP}"
InstallDirRegKey HKLM "${UNINST_KEY}" "InstallLocation"
BrandingText "${APP} ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "0.0.0.0"
VIAddVersionKey /LANG=0 "ProductName" "${APP}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "${APP_ZH} ${APP} installer"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${PUBLISHER}"

!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING

Var Server
Var CaFile
Var Township
Var Encrypt
Var DataDir
Var Lock
Var AddDesktop
Var SelfTest
Var Preset       ; 1 when any preset option was given (or entered on the page)
Var SiteDir
Var Field_Server
Var Field_Ca
Var Field_Township

!insertmacro MUI_PAGE_DIRECTORY
Page custom SitePage SitePageLeave
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString SiteTitle ${LANG_SIMPCHINESE} "县级平台"
LangString SiteTitle ${LANG_ENGLISH} "County platform"
LangString SiteSub ${LANG_SIMPCHINESE} "由县信息化部门预设；可留空，稍后编辑 %ProgramData%\Gridroom\site.toml。"
LangString SiteSub ${LANG_ENGLISH} "Preset by county IT; may be left empty and edited later in %ProgramData%\Gridroom\site.toml."
LangString LblServer ${LANG_SIMPCHINESE} "服务器地址（https://…）"
LangString LblServer ${LANG_ENGLISH} "Server URL (https://…)"
LangString LblCa ${LANG_SIMPCHINESE} "CA 证书文件（PEM，可选）"
LangString LblCa ${LANG_ENGLISH} "CA certificate file (PEM, optional)"
LangString LblTownship ${LANG_SIMPCHINESE} "乡镇/街道代码（9 位）"
LangString LblTownship ${LANG_ENGLISH} "Township code (9 digits)"
LangString ErrServer ${LANG_SIMPCHINESE} "服务器地址必须以 https:// 开头，且不含空格或引号："
LangString ErrServer ${LANG_ENGLISH} "The server URL must start with https:// and contain no spaces or quotes:"
LangString ErrCa ${LANG_SIMPCHINESE} "找不到 CA 证书文件："
LangString ErrCa ${LANG_ENGLISH} "The CA certificate file does not exist:"
LangString ErrTownship ${LANG_SIMPCHINESE} "乡镇/街道代码必须是 9 位数字："
LangString ErrTownship ${LANG_ENGLISH} "The township code must be 9 digits:"
LangString ErrDataDir ${LANG_SIMPCHINESE} "数据目录必须是不含单引号的绝对路径："
LangString ErrDataDir ${LANG_ENGLISH} "The data folder must be an absolute path without single quotes:"
LangString ErrWindows ${LANG_SIMPCHINESE} "网格通需要 64 位 Windows 10 或更高版本。"
LangString ErrWindows ${LANG_ENGLISH} "Gridroom needs 64-bit Windows 10 or later."
LangString ErrSelfTest ${LANG_SIMPCHINESE} "已安装，但自检未通过，详见："
LangString ErrSelfTest ${LANG_ENGLISH} "Installed, but the self-test failed; see:"

; -- options ------------------------------------------------------------------------------------

; Our own option reader: NSIS's GetOptions ends a value at the next "/", which cuts
; /SERVER=https://… short. Here a value ends at the next " /" (or its closing quote), so URLs
; and paths with spaces both work:  /SERVER=https://a/b   /CA="C:\My Certs\ca.pem"
; "/CA=C:\My Certs\ca.pem" is first rewritten into the quoted-value form.
!macro NormaliseOption PARAMS NAME
  ${WordReplace} ${PARAMS} '"/${NAME}=' '/${NAME}="' "+" ${PARAMS}
!macroend

; Sets VAR to the value of /NAME= (and $Preset to 1 when IS_PRESET); leaves VAR alone if absent.
!macro ReadOption PARAMS NAME VAR IS_PRESET
  ClearErrors
  ${WordFind} "${PARAMS}" "/${NAME}=" "E+1}" $R1
  ${IfNot} ${Errors}
    StrCpy $R2 $R1 1
    ${If} $R2 == '"'
      StrCpy $R1 $R1 "" 1
      ${WordFind} "$R1" '"' "+1{" ${VAR}
    ${Else}
      ${WordFind} "$R1" " /" "+1{" ${VAR}
    ${EndIf}
    ${Do}
      StrCpy $R2 ${VAR} 1 -1
      ${If} $R2 != " "
        ${Break}
      ${EndIf}
      StrCpy ${VAR} ${VAR} -1
    ${Loop}
    !if ${IS_PRESET} == 1
      StrCpy $Preset 1
    !endif
  ${EndIf}
  ClearErrors
!macroend

Function ReadOptions
  ${GetParameters} $R0
  StrCpy $R0 " $R0"  ; so an option at the very start also follows a space
  !insertmacro NormaliseOption $R0 SERVER
  !insertmacro NormaliseOption $R0 CA
  !insertmacro NormaliseOption $R0 TOWNSHIP
  !insertmacro NormaliseOption $R0 ENCRYPT
  !insertmacro NormaliseOption $R0 DATADIR
  StrCpy $Preset 0
  StrCpy $Lock 1
  StrCpy $AddDesktop 1
  StrCpy $SelfTest 0
  !insertmacro ReadOption $R0 SERVER $Server 1
  !insertmacro ReadOption $R0 CA $CaFile 1
  !insertmacro ReadOption $R0 TOWNSHIP $Township 1
  !insertmacro ReadOption $R0 ENCRYPT $Encrypt 1
  !insertmacro ReadOption $R0 DATADIR $DataDir 1
  !insertmacro ReadOption $R0 LOCK $Lock 0
  !insertmacro ReadOption $R0 DESKTOP $AddDesktop 0
  !insertmacro ReadOption $R0 SELFTEST $SelfTest 0
FunctionEnd

; Sets the error flag and leaves a message in $R9 when an option is unusable.
Function ValidateOptions
  ClearErrors
  ${If} $Server != ""
    StrCpy $R1 $Server 8
    ${WordFind} $Server " " "E*" $R2
    ${IfNot} ${Errors}
      StrCpy $R1 "bad"  ; contains a space
    ${EndIf}
    ClearErrors
    ${WordFind} $Server '"' "E*" $R2
    ${IfNot} ${Errors}
      StrCpy $R1 "bad"
    ${EndIf}
    ClearErrors
    ${WordFind} $Server "'" "E*" $R2
    ${IfNot} ${Errors}
      StrCpy $R1 "bad"
    ${EndIf}
    ClearErrors
    ${If} $R1 != "https://"
      StrCpy $R9 "$(ErrServer) $Server"
      SetErrors
      Return
    ${EndIf}
  ${EndIf}
  ${If} $CaFile != ""
  ${AndIfNot} ${FileExists} "$CaFile"
    StrCpy $R9 "$(ErrCa) $CaFile"
    SetErrors
    Return
  ${EndIf}
  ${If} $Township != ""
    StrLen $R1 $Township
    ${If} $R1 != 9
      StrCpy $R9 "$(ErrTownship) $Township"
      SetErrors
      Return
    ${EndIf}
    ; Keep only the digits; anything dropped means it was not all digits.
    ${StrFilter} "$Township" "1" "" "" $R3
    ${If} $R3 != $Township
      StrCpy $R9 "$(ErrTownship) $Township"
      SetErrors
      Return
    ${EndIf}
  ${EndIf}
  ${If} $DataDir != ""
    StrCpy $R1 $DataDir 1 1
    ${WordFind} $DataDir "'" "E*" $R2
    ${IfNot} ${Errors}
    ${OrIf} $R1 != ":"
      StrCpy $R9 "$(ErrDataDir) $DataDir"
      SetErrors
      Return
    ${EndIf}
    ClearErrors
  ${EndIf}
FunctionEnd

Function .onInit
  ${IfNot} ${RunningX64}
  ${OrIfNot} ${AtLeastWin10}
    MessageBox MB_ICONSTOP "$(ErrWindows)" /SD IDOK
    SetErrorLevel 1
    Quit
  ${EndIf}
  SetShellVarContext all
  SetRegView 64
  StrCpy $SiteDir "$APPDATA\${APP}"
  Call ReadOptions
  Call ValidateOptions
  ${If} ${Errors}
    ; A silent install shows no message box: leave the reason where IT's tools can read it.
    FileOpen $R8 "$TEMP\gridroom-install.log" a
    FileSeek $R8 0 END
    FileWrite $R8 "gridroom ${VERSION}: bad option: $R9$\r$\n"
    FileClose $R8
    MessageBox MB_ICONSTOP "$R9" /SD IDOK
    SetErrorLevel ${EXIT_BAD_OPTION}
    Quit
  ${EndIf}
FunctionEnd

; -- the county page (interactive installs only) ------------------------------------------------

Function SitePage
  !insertmacro MUI_HEADER_TEXT "$(SiteTitle)" "$(SiteSub)"
  nsDialogs::Create 1018
  Pop $0
  ${NSD_CreateLabel} 0 0 100% 12u "$(LblServer)"
  Pop $0
  ${NSD_CreateText} 0 13u 100% 12u "$Server"
  Pop $Field_Server
  ${NSD_CreateLabel} 0 32u 100% 12u "$(LblCa)"
  Pop $0
  ${NSD_CreateFileRequest} 0 45u 100% 12u "$CaFile"
  Pop $Field_Ca
  ${NSD_CreateLabel} 0 64u 100% 12u "$(LblTownship)"
  Pop $0
  ${NSD_CreateNumber} 0 77u 40% 12u "$Township"
  Pop $Field_Township
  nsDialogs::Show
FunctionEnd

Function SitePageLeave
  ${NSD_GetText} $Field_Server $Server
  ${NSD_GetText} $Field_Ca $CaFile
  ${NSD_GetText} $Field_Township $Township
  Call ValidateOptions
  ${If} ${Errors}
    MessageBox MB_ICONEXCLAMATION "$R9"
    Abort  ; stay on the page
  ${EndIf}
  ${If} "$Server$CaFile$Township" != ""
    StrCpy $Preset 1
  ${EndIf}
FunctionEnd

; -- installing ---------------------------------------------------------------------------------

Function StopRunningApp
  ; A running copy holds its files open. Its store survives being stopped (every write is one
  ; transaction), so a polite close, then a forced one, is safe for data.
  nsExec::Exec 'taskkill /IM gridroom.exe'
  Pop $0
  Sleep 2000
  nsExec::Exec 'taskkill /F /IM gridroom.exe'
  Pop $0
  nsExec::Exec 'taskkill /F /IM gridroom-cli.exe'
  Pop $0
FunctionEnd

Function WriteSiteConfig
  CreateDirectory "$SiteDir"
  ${If} $Preset != 1
    ${IfNot} ${FileExists} "$SiteDir\site.toml"
      File "/oname=$SiteDir\site.toml" "${__FILEDIR__}/../site.toml.example"
    ${EndIf}
    Return
  ${EndIf}
  ${If} ${FileExists} "$SiteDir\site.toml"
    CopyFiles /SILENT "$SiteDir\site.toml" "$SiteDir\site.toml.bak"
  ${EndIf}
  ${If} $CaFile != ""
    CopyFiles /SILENT "$CaFile" "$SiteDir\ca.pem.new"
    Delete "$SiteDir\ca.pem"
    Rename "$SiteDir\ca.pem.new" "$SiteDir\ca.pem"
  ${EndIf}
  StrCpy $R5 ""  ; the locked keys
  FileOpen $R0 "$SiteDir\site.toml.new" w
  FileWrite $R0 "# Gridroom site configuration, written by the installer (${VERSION}).$\r$\n"
  FileWrite $R0 "# Every key is documented in docs/deploy.md; 'gridroom-cli doctor' shows the effective values.$\r$\n$\r$\n"
  FileWrite $R0 "[server]$\r$\n"
  ${If} $Server != ""
    FileWrite $R0 'server_url = "$Server"$\r$\n'
    StrCpy $R5 '$R5"server_url", '
  ${EndIf}
  ${If} $CaFile != ""
    ; TOML literal string: backslashes stay backslashes.
    FileWrite $R0 "ca_file = '$SiteDir\ca.pem'$\r$\n"
    StrCpy $R5 '$R5"ca_file", '
  ${EndIf}
  FileWrite $R0 "$\r$\n[device]$\r$\n"
  ${If} $Township != ""
    FileWrite $R0 'township = "$Township"$\r$\n'
    StrCpy $R5 '$R5"township", '
  ${EndIf}
  ${If} $DataDir != ""
    FileWrite $R0 "data_dir = '$DataDir'$\r$\n"
  ${EndIf}
  FileWrite $R0 "$\r$\n[policy]$\r$\n"
  ${If} $Encrypt != ""
    ${If} $Encrypt == "1"
    ${OrIf} $Encrypt == "yes"
    ${OrIf} $Encrypt == "true"
      FileWrite $R0 "require_encryption = true$\r$\n"
    ${Else}
      FileWrite $R0 "require_encryption = false$\r$\n"
    ${EndIf}
    StrCpy $R5 '$R5"require_encryption", '
  ${EndIf}
  ${If} $Lock != "0"
  ${AndIf} $R5 != ""
    StrCpy $R5 $R5 -2  ; drop the last ", "
    FileWrite $R0 "locked = [$R5]$\r$\n"
  ${EndIf}
  FileClose $R0
  Delete "$SiteDir\site.toml"
  Rename "$SiteDir\site.toml.new" "$SiteDir\site.toml"
  DetailPrint "Site config: $SiteDir\site.toml"
FunctionEnd

Section "Gridroom" SecMain
  SectionIn RO
  SetShellVarContext all
  SetRegView 64
  Call StopRunningApp
  ; An upgrade replaces the runtime wholesale: stale modules of an older version must not mix
  ; with the new ones. Only our own folder is removed.
  ${If} ${FileExists} "$INSTDIR\gridroom.exe"
    RMDir /r "$INSTDIR\_internal"
  ${EndIf}
  SetOutPath "$INSTDIR"
  File /r "${PAYLOAD}/*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  Call WriteSiteConfig

  CreateDirectory "$SMPROGRAMS\${APP_ZH}"
  CreateShortcut "$SMPROGRAMS\${APP_ZH}\${APP_ZH}.lnk" "$INSTDIR\gridroom.exe" "" "$INSTDIR\gridroom.exe" 0
  CreateShortcut "$SMPROGRAMS\${APP_ZH}\$(^UninstallLink).lnk" "$INSTDIR\uninstall.exe"
  ${If} $AddDesktop != "0"
    CreateShortcut "$DESKTOP\${APP_ZH}.lnk" "$INSTDIR\gridroom.exe" "" "$INSTDIR\gridroom.exe" 0
  ${EndIf}

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APP_ZH} ${APP}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\gridroom.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $0

  ${If} $SelfTest == "1"
    DetailPrint "Self-test: $SiteDir\selftest.log"
    nsExec::Exec '"$INSTDIR\gridroom-cli.exe" --self-test --screenshot "$SiteDir\selftest.png"'
    Pop $0
    ; nsExec cannot redirect by itself; run again through cmd for the log only when it failed.
    ${If} $0 != 0
      nsExec::Exec 'cmd.exe /C ""$INSTDIR\gridroom-cli.exe" --self-test > "$SiteDir\selftest.log" 2>&1"'
      Pop $1
      MessageBox MB_ICONEXCLAMATION "$(ErrSelfTest) $SiteDir\selftest.log" /SD IDOK
      SetErrorLevel ${EXIT_SELFTEST}
    ${EndIf}
  ${EndIf}
SectionEnd

; -- uninstalling -------------------------------------------------------------------------------

Function un.onInit
  SetShellVarContext all
  SetRegView 64
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  SetRegView 64
  nsExec::Exec 'taskkill /F /IM gridroom.exe'
  Pop $0
  Delete "$SMPROGRAMS\${APP_ZH}\*.lnk"
  RMDir "$SMPROGRAMS\${APP_ZH}"
  Delete "$DESKTOP\${APP_ZH}.lnk"
  ; Only a folder that holds our program is removed wholesale.
  ${If} ${FileExists} "$INSTDIR\gridroom.exe"
    RMDir /r "$INSTDIR\_internal"
    Delete "$INSTDIR\gridroom.exe"
    Delete "$INSTDIR\gridroom-cli.exe"
    Delete "$INSTDIR\THIRD-PARTY.txt"
    Delete "$INSTDIR\site.toml.example"
  ${EndIf}
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST_KEY}"
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    RMDir /r "$APPDATA\${APP}"
  ${EndIf}
SectionEnd
