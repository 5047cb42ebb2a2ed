"""Chinese labels of the audited actions, object types and fields (audit pages, export)."""

ACTION_LABELS = {
    "user_created": "创建用户",
    "user_updated": "修改用户",
    "user_deactivated": "停用用户",
    "user_reactivated": "启用用户",
    "password_reset": "重置密码",
    "branch_created": "创建机构",
    "branch_updated": "修改机构",
    "template_created": "创建模板",
    "template_edited": "编辑模板（新版本）",
    "template_submitted": "提交复核",
    "template_approved": "批准模板",
    "template_rejected": "退回模板",
    "template_retired": "停用模板",
    "plan_created": "创建 SOP 计划",
    "plan_edited": "修改 SOP 计划",
    "plan_paused": "暂停 SOP 计划",
    "plan_resumed": "启用 SOP 计划",
    "plan_archived": "归档 SOP 计划",
    "post_withdrawn": "撤回内容",
    "import_completed": "导入数据",
}
OBJECT_LABELS = {"user": "用户", "branch": "机构", "template": "内容模板", "plan": "SOP 计划",
                 "post": "内容", "import": "导入"}
FIELD_LABELS = {
    "username": "用户名", "display_name": "显示名", "role": "角色", "branch": "所属机构",
    "wecom_userid": "企业微信 ID", "is_active": "启用", "must_change_password": "须修改密码",
    "has_api_token": "有 API 令牌", "code": "机构代码", "name": "机构名称", "level": "层级",
    "parent": "上级机构", "path": "路径", "status": "状态", "title": "标题", "slug": "标识",
    "product": "产品类别", "content_kind": "内容类别", "channel": "渠道", "comment": "复核意见",
    "findings": "合规提示", "rows": "行数", "errors": "错误行数", "file": "文件",
    "template_id": "模板 ID", "template_title": "模板", "schedule": "发送规则",
    "timezone": "时区", "start_date": "开始日期", "end_date": "结束日期",
    "max_runs": "运行次数上限", "branch_ids": "下发机构 ID", "branch_names": "下发机构",
    "segment_codes": "客群", "archived_at": "归档时间",
    "kind": "类型", "reason": "原因", "run_date": "日期", "template": "模板编号",
}
#: Branch levels by stored value (``app.org.models.BranchLevel``).
LEVEL_LABELS = {"hq": "总行", "branch": "分行", "sub_branch": "支行"}
