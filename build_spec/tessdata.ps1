# Pinned Tesseract language data (tessdata_fast 4.1.0, the files Debian packages as
# tesseract-ocr-chi-sim / -eng 1:4.1.0-2). Keep in step with build_spec/tessdata.sh.
$TessdataBase = "https://github.com/tesseract-ocr/tessdata_fast/raw/4.1.0"
$TessdataSha256 = @{
  "chi_sim" = "a5fcb6f0db1e1d6d8522f39db4e848f05984669172e584e8d76b6b3141e1f730"
  "eng"     = "7d4322bd2a7749724879683fc3912cb542f19906c83bcc1a52132556427170b2"
  "osd"     = "9cf5d576fcc47564f11265841e5ca839001e7e6f38ff7f7aacf46d15a96b00ff"
}

function Get-Tessdata([string]$Lang, [string]$Dest) {
  $file = Join-Path $Dest "$Lang.traineddata"
  Invoke-WebRequest -Uri "$TessdataBase/$Lang.traineddata" -OutFile $file
  $got = (Get-FileHash -Algorithm SHA256 $file).Hash.ToLower()
  if ($got -ne $TessdataSha256[$Lang]) {
    Remove-Item $file
    throw "$Lang.traineddata: SHA-256 $got, expected $($TessdataSha256[$Lang])"
  }
}
