// The workbench's words, Chinese first with English: statuses, reasons and what an API error code means
// here. Registered with common/i18n.js; shown with both() (“中文 · English”).
import { addStrings, both, t } from "./common/i18n.js";

addStrings({
  zh: {
    "status.submitted": "待分拨", "status.dispatched": "已派单", "status.accepted": "已受理",
    "status.in_progress": "处理中", "status.needs_triage": "待研判", "status.reopened": "已重开",
    "status.resolved": "已办结", "status.rejected": "无效", "status.duplicate": "重复", "status.revoked": "已撤销",
    "status.open": "全部待办",
    "role.lead": "主办", "role.assist": "协办",
    "answer.confirmed": "市民确认已解决", "answer.contested": "市民反映未解决", "answer.auto_confirmed": "到期自动确认",
    "reason.invalid": "无效举报", "reason.duplicate": "重复举报", "reason.not_ours": "非本部门职责",
    overdueBy: "超时 {h}", dueIn: "剩余 {h}", hours: "{n} 小时", minutes: "{n} 分钟", days: "{n} 天",
    meToo: "同感 {n}",
    "error.invalid_transition": "该案件当前状态不能进行此操作，请刷新后再试",
    "error.not_lead": "只有主办部门可以这样做",
    "error.proof_photo_required": "办结须上传至少一张现场照片",
    "error.invalid_reason": "请选择退回原因",
    "error.note_required": "请填写说明",
    "error.invalid_reassign_target": "请选择指挥中心以外的已知部门",
    "error.report_not_found": "该案件不存在或不属于本部门",
    "error.forbidden": "需要有所属部门的工作人员账号",
    "error.unauthenticated": "登录已过期，请重新登录",
    "error.http_401": "登录已过期，请重新登录",
    "error.photo_not_image": "所选文件不是照片",
    "error.photo_too_large": "照片太大",
    "error.photo_metadata_unremovable": "照片含无法去除的位置信息，请重新拍摄",
    "error.upload_failed": "照片上传失败，请重试",
    "error.unsupported_content_type": "不支持的照片格式",
    "error.write_conflict": "案件正被他人修改，请稍后重试",
    "error.assignment_pending": "派单正在写入，请稍候再试",
    "error.throttled": "系统繁忙，请稍后重试",
    "error.outcome_unknown": "结果未知，请刷新查看",
    "error.network": "网络不可用，请稍后重试",
    "error.rate_limited": "本网络对公开地图的请求过多（每分钟 60 次），请稍后再看",
    "error.invalid_json": "请求无效",
    "error.description_invalid": "说明太长（最多 1000 字）",
    "error.invalid_description": "说明太长（最多 1000 字）",
    "error.no_department": "该账号没有所属部门（custom:dept），无法使用工作台",
    "error.not_staff": "该账号不是工作人员（staff），无法使用工作台",
    "error.admin_only": "管理员账号不能直接办理案件：指挥中心的研判和改派请使用所属部门为 command_center 的工作人员账号",
  },
  en: {
    "status.submitted": "Submitted", "status.dispatched": "Dispatched", "status.accepted": "Accepted",
    "status.in_progress": "In progress", "status.needs_triage": "Needs triage", "status.reopened": "Reopened",
    "status.resolved": "Resolved", "status.rejected": "Invalid", "status.duplicate": "Duplicate", "status.revoked": "Revoked",
    "status.open": "All open",
    "role.lead": "Lead", "role.assist": "Assisting",
    "answer.confirmed": "Confirmed by the reporter", "answer.contested": "Contested: not fixed", "answer.auto_confirmed": "Confirmed at the window's end",
    "reason.invalid": "Invalid report", "reason.duplicate": "Duplicate", "reason.not_ours": "Not ours",
    overdueBy: "Overdue by {h}", dueIn: "Due in {h}", hours: "{n} h", minutes: "{n} min", days: "{n} d",
    meToo: "{n} me too",
    "error.invalid_transition": "The report cannot make this change in its current status: refresh and try again",
    "error.not_lead": "Only the lead department may do this",
    "error.proof_photo_required": "Resolving needs at least one proof photo",
    "error.invalid_reason": "Choose a reason",
    "error.note_required": "Write a note",
    "error.invalid_reassign_target": "Choose a known department other than the command center",
    "error.report_not_found": "No such report assigned to your department",
    "error.forbidden": "This needs a staff account with a department",
    "error.unauthenticated": "Your sign-in expired: sign in again",
    "error.http_401": "Your sign-in expired: sign in again",
    "error.photo_not_image": "The file is not a photo",
    "error.photo_too_large": "The photo is too large",
    "error.photo_metadata_unremovable": "The photo carries location data that cannot be removed: take it again",
    "error.upload_failed": "The photo upload failed: try again",
    "error.unsupported_content_type": "This photo format is not supported",
    "error.write_conflict": "Someone else is changing this report: try again in a moment",
    "error.assignment_pending": "The dispatch to your department is still being recorded: try again in a moment",
    "error.throttled": "The system is busy: try again in a moment",
    "error.outcome_unknown": "The outcome is unknown: refresh to see",
    "error.network": "No network: try again later",
    "error.rate_limited": "Too many public-map requests from this network (60 a minute): look again in a moment",
    "error.invalid_json": "The request was not valid",
    "error.description_invalid": "The note is too long (at most 1,000 characters)",
    "error.invalid_description": "The note is too long (at most 1,000 characters)",
    "error.no_department": "This account has no department (custom:dept): the workbench needs one",
    "error.not_staff": "This account is not staff: the workbench is for staff",
    "error.admin_only": "An admin account cannot work reports itself: the command center triages and reassigns with a staff account of the command_center department",
  },
});

/** explain is what to tell the user about a failed call, in both languages, from the API's stable code. */
export function explain(err) {
  const code = (err && err.code) || "";
  const key = "error." + code;
  if (t(key, {}, "zh") !== key) return both(key);
  const detail = (err && err.message) || String(err);
  return `出错了 Something went wrong: ${detail}${code ? ` (${code})` : ""}`;
}

/** statusLabel is a status in both languages. */
export function statusLabel(s) {
  const key = "status." + s;
  return t(key, {}, "zh") === key ? s : both(key);
}

/** span formats a duration in ms as the largest whole unit ("3 小时 · 3 h"). */
export function span(ms, l) {
  const min = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (min < 90) return t("minutes", { n: min }, l);
  const h = Math.round(min / 60);
  if (h < 48) return t("hours", { n: h }, l);
  return t("days", { n: Math.round(h / 24) }, l);
}

/** deadlineText says how far a deadline is ("超时 3 小时 · Overdue by 3 h"). */
export function deadlineText(deadline, now = Date.now()) {
  const ms = Date.parse(deadline) - now;
  const key = ms <= 0 ? "overdueBy" : "dueIn";
  return `${t(key, { h: span(ms, "zh") }, "zh")} · ${t(key, { h: span(ms, "en") }, "en")}`;
}
