"""The actions people take in ssj, declared once: a stable name and its zh-CN label.

Errors offer next steps as actions (``errors.Step``), never as commands: each interface renders
an action its own way — the CLI as a command line (workflow/cli/hints.py, which a test keeps
complete), the web as a link or a form. The role × action matrix of the service is keyed by
these names too.
"""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    "init": "初始化数据库",
    "directory.import": "导入目录（一单两库）",
    "directory.template": "生成导入模板",
    "directory.restore": "恢复停用的记录",
    "directory.retire": "停用目录记录",
    "plan.create": "创建抽查计划",
    "plan.publish": "公布抽查计划",
    "draw.run": "随机抽取",
    "draw.confirm": "确认抽取结果",
    "draw.substitute": "递补检查人员",
    "sheet.make": "生成检查表",
    "task.fire": "推进任务",
    "result.set": "录入检查结果",
    "result.import": "导入检查结果表",
    "result.correct": "更正已公示的检查结果",
    "result.rectify_by": "变更整改期限",
    "result.publish": "登记结果公示",
    "followup.add": "登记后续处置",
    "report.submit": "登记报送",
    "calendar.notice": "录入国务院放假安排通知",
    "audit.verify": "校验审计日志",
    # Reading, and the service's own administration (issue #11): the role × action matrix
    # (workflow/core/permissions.py) is keyed by these names too.
    "task.create": "创建抽查任务",
    "task.read": "查看任务",
    "plan.read": "查看抽查计划",
    "directory.read": "查看目录",
    "directory.export": "导出目录",
    "draw.read": "查看抽取记录",
    "deadline.read": "查看期限与逾期",
    "sweep.run": "执行期限巡检",
    "report.read": "查看报送情况",
    "outbox.read": "查看邮件队列",
    "outbox.manage": "重发或投递邮件",
    "calendar.read": "查看工作日历",
    "config.read": "查看配置",
    "audit.read": "查看审计日志",
    "audit.replay": "重放审计日志",
    "audit.export": "导出审计日志",
    "audit.checkpoint": "创建或核对检查点",
    "unit.read": "查看单位",
    "unit.manage": "管理单位",
    "user.read": "查看账号",
    "user.manage": "管理账号",
    "token.manage": "管理 API 令牌",
    "account.self": "查看或修改本人账号",
}

# What satisfies each guard of the lifecycle (states/_guards.py) that waits on work people do:
# offered as next steps when the guard refuses a trigger. Guards that rule a path out (close
# while problems are open) have none.
GUARD_ACTIONS: dict[str, tuple[str, ...]] = {
    "commitment_published": ("plan.publish",),
    "draw_recorded": ("draw.run",),
    "all_results_recorded": ("result.set", "result.import"),
    "all_results_published": ("result.publish",),
    "all_problems_followed_up": ("followup.add",),
}
