// The citizen app's words, Chinese first with English: report statuses (each with an icon, so a status
// reads without colour), notification kinds, redemption statuses and what an API error code means to a
// citizen. Registered with common/i18n.js and shown with both() ("中文 · English").
import { addStrings, both, t, errorMessage } from "./common/i18n.js";

addStrings({
  zh: {
    "dept.city_mgmt": "城管", "dept.sanitation": "环卫", "dept.traffic_police": "交警", "dept.housing": "住建",
    "dept.municipal": "市政", "dept.police": "公安", "dept.environment": "生态环境", "dept.command_center": "调度中心",
    noHonors: "暂无荣誉",
    waiting: "等待发送", sentOk: "已发送", refused: "未被受理", locating: "正在定位…", located: "已定位，可拖动图钉修正",
    noLocation: "无法获取位置，请在地图上点选", placeMap: "举报位置地图", mapUnavailable: "地图暂不可用",
    needPhoto: "请拍一张照片", needPlace: "请选择位置", needCategory: "请选择类别", needDescription: "请填写描述",
    savedOffline: "已保存在手机上，联网后自动发送", sending: "正在发送…", badPhoto: "无法读取这张照片",
    noWorker: "离线功能不可用：", redeem: "兑换", redeemed: "兑换成功", pickupCode: "取货码", pickupAt: "领取地点",
    pickupUntil: "领取截止", cancelRedemption: "取消兑换", meToo: "我也遇到", meTooCount: "{n} 人也遇到",
    meTooDone: "已附议", balance: "积分余额", merit: "文明分", validReports: "有效举报", lifetimeEarned: "累计获得",
    lifetimeRedeemed: "累计兑换", debt: "待抵扣", amount: "积分数", confirmed: "已确认解决", contested: "已反馈未解决",
    autoConfirmed: "已自动确认", stars: "{n} 星", unreadLabel: "未读", readLabel: "已读", noPhotos: "没有照片", photosUnavailable: "{n} 张照片暂时无法显示",
    photoLabel: "举报照片", proofLabel: "办结照片", mapTitle: "公开地图", filedAt: "提交于 {at}", publicEmpty: "此范围内没有待办问题",
    "st.submitted": "已提交", "st.dispatched": "已派单", "st.accepted": "已受理", "st.in_progress": "处理中",
    "st.needs_triage": "研判中", "st.reopened": "已重开", "st.resolved": "已办结", "st.rejected": "未受理",
    "st.duplicate": "重复举报", "st.revoked": "已撤销",
    "rd.reserved": "待领取", "rd.completed": "已领取", "rd.cancelled": "已取消", "rd.expired": "已过期（积分已退回）", "rd.locked": "已锁定",
    "n.report.dispatched": "您的举报已派给 {dept}", "n.report.accepted": "部门已受理您的举报",
    "n.report.resolved": "您的举报已办结，获得 {points} 积分", "n.report.reopened": "您的举报已重新办理",
    "n.points.awarded": "获得 {points} 积分", "n.redemption.ready": "奖品已备好，请到 {where} 领取",
    "n.redemption.expiring": "奖品即将过期，请尽快到 {where} 领取",
    "lk.award": "举报办结", "lk.duplicate_award": "重复举报确认", "lk.reversal": "撤销", "lk.redemption": "兑换",
    "lk.refund": "退回", "lk.reconcile": "核对",
    "av.available": "有货", "av.low": "库存紧张", "av.out": "已兑完",
    "error.insufficient_points": "积分不足", "error.out_of_stock": "已兑完", "error.limit_reached": "已达本月兑换上限",
    "error.item_unavailable": "该奖品暂不可兑换", "error.location_outside_city": "位置不在服务范围内",
    "error.location_required": "请选择位置", "error.unknown_category": "请选择类别",
    "error.invalid_description": "描述无效（1–1000 字）", "error.photo_metadata_unremovable": "照片含无法去除的位置信息，请重新拍摄",
    "error.photo_not_image": "所选文件不是照片", "error.photo_too_large": "照片太大",
    "error.own_report": "这是您自己的举报", "error.report_closed": "该问题已办结",
    "error.already_answered": "已经评价过了", "error.answer_window_closed": "评价期已过",
    "error.rate_limited": "请求太频繁，请稍后再试", "error.upload_failed": "照片上传失败，请重试",
    "error.invalid_rating": "请选择评分", "error.invalid_photo_count": "请拍一张现状照片",
    "error.idempotency_key_reused": "这份举报已用不同内容提交过",
    "error.outside_place": "您不在活动地点范围内，请到现场后再签到", "error.code_expired": "签到码已过期，请扫组织者现在显示的码",
    "error.code_used": "这个签到码您已用过，请等下一个码", "error.code_invalid": "签到码不对，请核对组织者显示的 6 位数字",
    "error.not_checked_in": "请先签到再签退", "error.outside_window": "不在签到时间内（活动开始前 30 分钟至结束；签退至结束后 30 分钟）",
    "error.not_signed_up": "您没有这个活动的名额", "error.already_checked_in": "您已签到", "error.already_checked_out": "您已签退",
    "error.activity_closed": "活动已取消或已结束", "error.not_a_volunteer": "请先成为志愿者", "error.not_organiser": "只有该队伍的组织者可以操作",
    "error.attendance_state": "当前状态不能这样操作", "error.too_many_teams": "最多加入 20 支队伍",
    "error.activity_not_found": "没有这个活动", "error.team_not_found": "没有这支队伍",
    "error.attendance_not_found": "没有签到记录",
  },
  en: {
    "dept.city_mgmt": "City management", "dept.sanitation": "Sanitation", "dept.traffic_police": "Traffic police",
    "dept.housing": "Housing & construction", "dept.municipal": "Municipal works", "dept.police": "Police",
    "dept.environment": "Ecology & environment", "dept.command_center": "Command center",
    noHonors: "No honors yet",
    waiting: "waiting to send", sentOk: "Sent", refused: "Not accepted", locating: "Finding your place…", located: "Located: drag the pin to correct it",
    noLocation: "No location: tap the map", placeMap: "Map of the report's place", mapUnavailable: "The map is not available",
    needPhoto: "Take a photo", needPlace: "Choose the place", needCategory: "Choose a category", needDescription: "Describe the problem",
    savedOffline: "Saved on this phone: sent when the connection returns", sending: "Sending…", badPhoto: "This photo cannot be read",
    noWorker: "Offline use unavailable:", redeem: "Redeem", redeemed: "Redeemed", pickupCode: "Pickup code", pickupAt: "Pick up at",
    pickupUntil: "Pick up by", cancelRedemption: "Cancel", meToo: "Me too", meTooCount: "{n} me too",
    meTooDone: "Added", balance: "Balance", merit: "Merit", validReports: "Valid reports", lifetimeEarned: "Earned in all",
    lifetimeRedeemed: "Redeemed in all", debt: "Owed", amount: "Points", confirmed: "Confirmed fixed", contested: "Reported not fixed",
    autoConfirmed: "Confirmed automatically", stars: "{n} stars", unreadLabel: "unread", readLabel: "read", noPhotos: "No photos", photosUnavailable: "{n} photo(s) cannot be shown now",
    photoLabel: "Report photo", proofLabel: "Proof photo", mapTitle: "Public map", filedAt: "Filed {at}", publicEmpty: "No open problems in this area",
    "st.submitted": "Submitted", "st.dispatched": "Sent to a department", "st.accepted": "Accepted", "st.in_progress": "In progress",
    "st.needs_triage": "Being routed", "st.reopened": "Reopened", "st.resolved": "Resolved", "st.rejected": "Not accepted",
    "st.duplicate": "Duplicate", "st.revoked": "Revoked",
    "rd.reserved": "Ready for pickup", "rd.completed": "Picked up", "rd.cancelled": "Cancelled", "rd.expired": "Expired (points refunded)", "rd.locked": "Locked",
    "n.report.dispatched": "Your report went to {dept}", "n.report.accepted": "The department accepted your report",
    "n.report.resolved": "Your report is resolved: {points} points", "n.report.reopened": "Your report was reopened",
    "n.points.awarded": "{points} points awarded", "n.redemption.ready": "Your prize is ready at {where}",
    "n.redemption.expiring": "Your prize expires soon: collect it at {where}",
    "lk.award": "Report resolved", "lk.duplicate_award": "Duplicate confirmed", "lk.reversal": "Reversed", "lk.redemption": "Redeemed",
    "lk.refund": "Refund", "lk.reconcile": "Reconciled",
    "av.available": "Available", "av.low": "Few left", "av.out": "Out of stock",
    "error.insufficient_points": "Not enough points", "error.out_of_stock": "Out of stock", "error.limit_reached": "Monthly limit reached",
    "error.item_unavailable": "Not available now", "error.location_outside_city": "The place is outside the service area",
    "error.location_required": "Choose the place", "error.unknown_category": "Choose a category",
    "error.invalid_description": "Description invalid (1–1000 characters)", "error.photo_metadata_unremovable": "The photo has location data that cannot be removed: take another",
    "error.photo_not_image": "The file is not a photo", "error.photo_too_large": "The photo is too large",
    "error.own_report": "This is your own report", "error.report_closed": "This problem is already resolved",
    "error.already_answered": "Already answered", "error.answer_window_closed": "The time to answer has passed",
    "error.rate_limited": "Too many requests: try again shortly", "error.upload_failed": "The photo upload failed: try again",
    "error.invalid_rating": "Choose a rating", "error.invalid_photo_count": "Take a photo of it as it is",
    "error.idempotency_key_reused": "This report was already sent with other content",
    "error.outside_place": "You are not at the activity's place: check in there", "error.code_expired": "The code has expired: use the one the organiser shows now",
    "error.code_used": "You used this code already: wait for the next one", "error.code_invalid": "Wrong code: check the organiser's 6 digits",
    "error.not_checked_in": "Check in before checking out", "error.outside_window": "Not open now (check-in from 30 min before the start until the end; check-out until 30 min after)",
    "error.not_signed_up": "You hold no place in this activity", "error.already_checked_in": "You checked in already", "error.already_checked_out": "You checked out already",
    "error.activity_closed": "The activity is cancelled or over", "error.not_a_volunteer": "Become a volunteer first", "error.not_organiser": "Only the team's organisers may do this",
    "error.attendance_state": "Not possible in the attendance's state", "error.too_many_teams": "At most 20 teams",
    "error.activity_not_found": "No such activity", "error.team_not_found": "No such team",
    "error.attendance_not_found": "No attendance recorded",
  },
});

// Icons per status (plain symbols every system font has): the word says it, the shape helps at a glance,
// colour only adds.
const ICON = {
  submitted: "…", dispatched: "→", accepted: "✓", in_progress: "⚙", needs_triage: "?", reopened: "↺",
  resolved: "✔", rejected: "✕", duplicate: "=", revoked: "✕",
};
const TONE = { resolved: "ok", rejected: "danger", revoked: "danger", duplicate: "warn", reopened: "warn" };

/** statusText is a report status in words with its icon: "✔ 已办结 · Resolved". */
export function statusText(status) {
  return `${ICON[status] || "•"} ${both("st." + status)}`;
}

/** statusTone is the badge class of a status (ok, warn, danger or ""). */
export function statusTone(status) {
  return TONE[status] || "";
}

/** redemptionText is a redemption status in words. */
export function redemptionText(status) {
  return both("rd." + status);
}

/** explain is what to tell the citizen about a failed call: the app's words for its code in both languages, else i18n's. */
export function explain(err) {
  const key = "error." + (err && err.code);
  return t(key) !== key ? both(key) : errorMessage(err);
}

/**
 * deptName is a department's name in the current language. No route open to citizens lists departments,
 * so these are the city's departments as seeded (infra/seed/departments.json); another id shows as it is.
 */
export function deptName(id, l) {
  const key = "dept." + id;
  const s = t(key, {}, l);
  return s === key ? id : s;
}
