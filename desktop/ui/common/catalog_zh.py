"""Chinese UI texts keyed by the English text (see desktop.ui.common.i18n).

tests/ui/test_i18n.py checks that every literal passed to `tr()` in the UI modules
has an entry here.
"""

ZH: dict[str, str] = {
    # window, menus, tabs
    "FieldCRM": "FieldCRM 客户管理",
    "&File": "文件(&F)",
    "&Edit": "编辑(&E)",
    "&View": "视图(&V)",
    "New…": "新建…",
    "Add demo data (1,000 accounts)": "添加演示数据（1,000 个客户）",
    "Settings…": "设置…",
    "Quit": "退出",
    "Undo delete": "撤销删除",
    "Delete": "删除",
    "Search": "搜索",
    "Refresh": "刷新",
    "Today": "今天",
    "Accounts": "客户",
    "Contacts": "联系人",
    "Deals": "商机",
    "Activities": "活动",
    "Account": "客户",
    "Contact": "联系人",
    "Undo": "撤销",
    "Cancel": "取消",
    "Dismiss": "关闭",
    "OK": "确定",
    "Save": "保存",
    "Yes": "是",
    "No": "否",
    "Edit…": "编辑…",
    "Open account page": "打开客户主页",
    "Move to": "移动到",
    "← Back": "← 返回",
    "Details": "详细信息",
    "Timeline": "时间线",
    "Add contact": "添加联系人",
    "Add deal": "添加商机",
    "Log activity": "记录活动",
    "Last changed": "最后修改",
    "{n} shown": "已显示 {n} 条",
    # lists and empty states
    "New account": "新建客户",
    "New contact": "新建联系人",
    "New deal": "新建商机",
    "New activity": "新建活动",
    "No accounts yet.\nPress Ctrl+N to add your first customer, "
    "or add demo data from the File menu to look around.":
        "还没有客户。\n按 Ctrl+N 添加第一个客户，或在“文件”菜单中添加演示数据先看看。",
    "No contacts yet.\nPress Ctrl+N to add a person you met, "
    "or open an account and add its contacts there.":
        "还没有联系人。\n按 Ctrl+N 添加您见过的人，或打开一个客户，在客户主页添加联系人。",
    "No deals yet.\nPress Ctrl+N to record an opportunity.":
        "还没有商机。\n按 Ctrl+N 记录一个销售机会。",
    "No activities yet.\nPress Ctrl+N to log a call, a visit, a note or a task.":
        "还没有活动。\n按 Ctrl+N 记录电话、拜访、笔记或待办。",
    "No deals in this stage.\nDrag a card here to move it.":
        "此阶段没有商机。\n把卡片拖到这里即可移动。",
    "Drag a card to another stage, or right-click it to move it.":
        "把卡片拖到其他阶段，或右键点击卡片来移动。",
    "No contacts yet. Add the people you meet here.": "还没有联系人。在这里添加您拜访过的人。",
    "No deals yet.": "还没有商机。",
    "Nothing logged yet. Log calls, visits and notes here.":
        "还没有记录。在这里记录电话、拜访和笔记。",
    # today
    "Today, {date}": "今天，{date}",
    "Due and overdue": "今日到期与逾期",
    "Done today": "今日已完成",
    "Deals expected to close in 14 days": "14 天内预计成交的商机",
    "Nothing is due today.\nLog a visit or a call in Activities "
    "(Ctrl+5, then Ctrl+N) and give it a due time to see it here.":
        "今天没有到期事项。\n在“活动”中（Ctrl+5，再按 Ctrl+N）记录拜访或电话并设置截止时间，"
        "就会显示在这里。",
    # search
    "Search accounts and contacts (Ctrl+F): name, pinyin, phone, email":
        "搜索客户和联系人（Ctrl+F）：名称、拼音、电话、邮箱",
    "No account or contact matches “{text}”.": "没有与“{text}”匹配的客户或联系人。",
    # dialogs
    "New {entity}": "新建{entity}",
    "Edit {entity}": "编辑{entity}",
    "Saving…": "正在保存…",
    "Type to search…": "输入名称搜索…",
    "Separate several with commas": "多个请用逗号分隔",
    "Pick a record from the list": "请从列表中选择一条记录",
    "Please correct the marked field.": "请修改标出的字段。",
    "{label} is required": "请填写{label}",
    "Not a valid phone number": "不是有效的电话号码",
    "Not an email address": "不是有效的邮箱地址",
    "Not a valid credit code (18 characters, check digit per GB 32100)":
        "统一社会信用代码无效（应为 18 位，校验位按 GB 32100）",
    "Not a currency code (e.g. CNY)": "不是币种代码（例如 CNY）",
    "{label} is too long (at most {n} characters)": "{label}太长（最多 {n} 个字符）",
    "{label} must be a number": "{label}必须是数字",
    "{label}: not a date (YYYY-MM-DD)": "{label}：日期格式应为 YYYY-MM-DD",
    "{label}: not a date and time (YYYY-MM-DD HH:MM)": "{label}：时间格式应为 YYYY-MM-DD HH:MM",
    # settings
    "Settings": "设置",
    "Language": "语言",
    "Follow the system": "跟随系统",
    "Profile folder": "数据文件夹",
    "Your data stays on this computer; it is sent to your company's "
    "server only when you sync.": "您的数据保存在这台电脑上，只有同步时才会发送到公司服务器。",
    # messages
    "Saved “{title}”.": "已保存“{title}”。",
    "Deleted “{title}”. Press Undo (Ctrl+Z) to bring it back.":
        "已删除“{title}”。按“撤销”（Ctrl+Z）可恢复。",
    "Restored “{title}”.": "已恢复“{title}”。",
    "Nothing to undo.": "没有可撤销的删除。",
    "Adding demo data": "正在添加演示数据",
    "Import accounts from CSV…": "从 CSV 导入客户…",
    "Importing accounts": "正在导入客户",
    "Imported {n} accounts.": "已导入 {n} 个客户。",
    "Skipped {n} rows (first: line {line}: {reason}).":
        "跳过了 {n} 行（第一处：第 {line} 行：{reason}）。",
    "Added {n} demo accounts.": "已添加 {n} 个演示客户。",
    "Stopped. What was already added is kept.": "已停止。已添加的数据会保留。",
    "FieldCRM cannot open your data.": "FieldCRM 无法打开您的数据。",
    "Something went wrong. The details were written to the log.":
        "出了点问题，详细信息已写入日志。",
    # choices (stage, lifecycle, activity kind, lead source)
    "Lead": "线索",
    "Qualified": "已确认需求",
    "Proposal": "方案报价",
    "Negotiation": "商务谈判",
    "Legal review": "法务审核",
    "Won": "赢单",
    "Lost": "输单",
    "Prospect": "潜在客户",
    "Customer": "成交客户",
    "Churned": "已流失",
    "Call": "电话",
    "Visit": "拜访",
    "Note": "笔记",
    "Task": "待办",
    "Referral": "转介绍",
    "Exhibition": "展会",
    "Web": "网站",
    "Cold call": "陌生拜访",
}
