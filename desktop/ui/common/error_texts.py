"""What an error says in Chinese. Errors are raised in the Qt-free layers with English
text that often names a file or a value; in the Chinese UI the user gets the Chinese
explanation of the error's kind (what happened, what to do), followed by that detail."""

from __future__ import annotations

ZH_BY_KIND: dict[str, str] = {
    "FieldCRMError": "FieldCRM 出了问题。",
    "ValidationError": "有一个值不符合字段要求。",
    "NotFoundError": "该记录不存在（或已被删除）。",
    "StoreError": "本地数据无法完成这次操作。",
    "StoreOpenError": "无法打开本地数据。",
    "StoreTooNewError": "这些数据由更新版本的 FieldCRM 写入；请先升级本程序。",
    "StoreDamagedError": "数据文件已损坏，未被打开。",
    "StoreBusyError": "数据被另一个程序占用；请关闭它后重试。",
    "DiskFullError": "磁盘已满：没有保存任何内容。请腾出空间后再保存。",
    "SealedFileDamagedError": "本机的一个文件已损坏，无法读取。",
    "SyncError": "同步失败。",
    "AuthError": "服务器不接受这些登录信息。",
    "OfflineError": "暂时连不上同步服务器。您的修改保存在本机，连接恢复后会自动发送。",
    "ServerNotAnsweringError": "同步服务器没有响应。您的修改保存在本机，FieldCRM 稍后会自动重试。",
    "ServerBusyError": "同步服务器处理出错，FieldCRM 稍后会自动重试。",
    "SignedOutError": "您已退出同步服务器。请重新登录以继续同步；您的修改保存在本机。",
    "UpdateRequired":
        "此版本的 FieldCRM 太旧，同步服务器已不再支持：请安装新版本。"
        "您未发送的修改保存在本机，更新后会自动发送。",
    "WipeRequired": "服务器已终止本设备的访问（设备被吊销、用户被停用或已注销）：本机数据已移除。",
    "KeyringError":
        "系统钥匙串不可用，无法保存登录状态。请确认钥匙串（钥匙串访问、凭据管理器、Secret "
        "Service）已解锁。",
    "MenuEntryError":
        "无法把 FieldCRM 加入应用程序菜单：该文件夹不可写。"
        "FieldCRM 本身未受影响，仍可从其文件夹启动。",
    "CaptureError": "无法读取该文件。",
    "NotAnImageError":
        "该文件不是 FieldCRM 能读取的图片或 PDF。请使用 JPEG、PNG、HEIC、TIFF 照片或 PDF 扫描件。",
    "TruncatedFileError": "该文件不完整（复制或下载时被截断）。请重新复制原文件后重试。",
    "EmptyPageError": "页面是空白的，没有识别到文字。请确认照片拍到了合同页。",
    "PasswordProtectedError": "该 PDF 有密码保护。请另存一份无密码的副本后重试。",
    "OcrEngineMissingError": "没有可用的文字识别引擎。请安装 Tesseract 及中文语言包，或 rapidocr。",
    "AudioDecodeError":
        "无法读取该音频文件：文件损坏或格式不受支持。请使用 WAV、MP3、M4A/AAC 或 OGG。"
        "原文件保持不变。",
    "SilentRecordingError":
        "录音是静音的：麦克风没有收到声音。请检查麦克风是否选对、是否静音，然后重录。录音已保留。",
    "NoSpeechError":
        "录音中没有识别到语音（只有噪音）。请靠近麦克风重录，或直接输入笔记。录音已保留。",
    "VoiceModelMissingError":
        "没有安装语音模型。请在 设置 ▸ 语音模型 中下载（如中文 vosk-model-small-cn-0.22），或把 "
        "Vosk 模型解压到个人资料的 models 文件夹或 FIELDCRM_VOSK_MODELS 指定的文件夹后重试。",
    "VoiceModelBrokenError": "语音模型文件夹不完整或已损坏。请换一份完整解压的 Vosk 模型后重试。",
    "ModelCatalogError":
        "无法读取语音模型列表。请检查其地址（设置 ▸ 语音模型，或 FIELDCRM_MODEL_CATALOG）"
        "后重试。",
    "ModelNotInCatalogError":
        "该语音模型不在已知模型列表中。请查看列表（fieldcrm capture models list），"
        "或用 --url 给出模型地址。",
    "ModelDownloadError": "无法下载语音模型。请检查网络连接和地址后重试：下载会从中断处继续。",
    "ModelChecksumError":
        "下载的文件不是预期的语音模型（sha256 校验值不符）。没有安装任何内容，下载的文件已删除。"
        "请检查模型列表中的地址和校验值后重新下载。",
    "NotEnoughDiskSpaceError":
        "磁盘空间不足，无法安装语音模型。请腾出空间，或选择另一块磁盘上的模型文件夹后重试。",
    "ModelArchiveError":
        "下载的文件不是可用的语音模型压缩包（zip 损坏、路径不安全或其中没有 Vosk 模型）。"
        "没有安装任何内容。",
    "ModelAlreadyInstalledError": "该语音模型已经安装。请直接选用，或先删除它的文件夹。",
    "Cancelled": "操作已取消。",
    # fieldcrm-server commands (server.integrations, server.webhooks, server.reconcile)
    "IntegrationError": "无法完成对外部系统凭据的操作。",
    "WebhookError": "无法完成对 Webhook 订阅的操作。",
    "ReconcileError":
        "无法比对：请检查系统名称（fieldcrm-server integration list）以及导出文件"
        "（CSV：UTF-8 或 GBK；或 XLSX，第一行为列名）。",
}


def zh_error_text(exc: BaseException) -> str | None:
    """The Chinese text for a FieldCRM error (with its English detail when the message
    says more than its kind), or None when its kind has no Chinese text."""
    for cls in type(exc).__mro__:
        zh = ZH_BY_KIND.get(cls.__name__)
        if zh is None:
            continue
        detail = str(exc)
        default = getattr(type(exc), "default_message", lambda: "")()
        return zh if not detail or detail == default else f"{zh}\n（{detail}）"
    return None
