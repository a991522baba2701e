// Why a pickup was refused, in words a clerk can pass on (Chinese first, English), from the API's stable
// error codes (README, "API (honor supermarket)"): each status a redemption cannot be picked up in has its
// own code (already_collected, redemption_expired, redemption_cancelled, redemption_locked); the message is
// for people and is never read here.

const NOT_PICKABLE = {
  already_collected: {
    outcome: "completed_before",
    title: "✕ 已领取过 Already collected",
    lines: ["该兑换的物品已经领取，请勿重复交付。", "The goods of this redemption were already collected: do not hand them over again."],
  },
  redemption_expired: {
    outcome: "expired",
    title: "✕ 已过期 Expired",
    lines: ["超过 30 天未领取，兑换已过期，积分已退回市民账户。",
      "Not collected within 30 days: the redemption expired and its points went back to the citizen."],
  },
  redemption_cancelled: {
    outcome: "cancelled",
    title: "✕ 已取消 Cancelled",
    lines: ["市民已取消该兑换，积分已退回。", "The citizen cancelled this redemption; the points went back to them."],
  },
};

/** explainRefusal turns an ApiError from POST /v1/redemptions/{id}/verify or …/fulfil into {outcome, title, lines}. */
export function explainRefusal(err, { afterLostAnswer = false } = {}) {
  const code = (err && err.code) || "";
  switch (code) {
    case "redemption_not_found":
      return { outcome: "unknown", title: "✕ 未找到该兑换 Unknown redemption",
        lines: ["没有这个兑换单号，请核对后重新输入，或请市民出示二维码。", "There is no redemption with this number: check it, or ask for the QR code."] };
    case "wrong_pickup_code":
      return { outcome: "wrong_code", title: "✕ 取货码不正确 Wrong pickup code",
        lines: ["请核对市民手机上的取货码。连续输错 5 次，该兑换将被锁定。", "Check the code on the citizen's phone. Five wrong codes lock the redemption."] };
    case "redemption_locked":
      return { outcome: "locked", title: "✕ 已锁定 Locked",
        lines: ["取货码输错次数过多，该兑换已锁定，柜台无法交付。请市民联系客服；未领取的兑换到期后积分自动退回。",
          "Too many wrong pickup codes locked this redemption: it cannot be handed over at the counter. The citizen should contact the service desk; when it expires unclaimed, the points are refunded."] };
    case "already_collected":
      if (afterLostAnswer) {
        return { outcome: "completed_before", title: "✓ 已领取（刚才的请求已生效） Collected (the earlier attempt went through)",
          lines: ["上一次请求的回应丢失，但领取已登记。请核对市民手机上的兑换状态后交付。",
            "The answer to the earlier attempt was lost, but the pickup is recorded: check the redemption on the citizen's phone, then hand over."] };
      }
      return NOT_PICKABLE[code];
    case "redemption_expired":
    case "redemption_cancelled":
      return NOT_PICKABLE[code];
    case "not_fulfillable":
      return { outcome: "not_fulfillable", title: "✕ 不能领取 Cannot be collected",
        lines: ["该兑换目前不能领取。", "This redemption cannot be collected now."] };
    case "invalid_field":
    case "invalid_path_parameter":
      return { outcome: "invalid", title: "✕ 格式不对 Not valid",
        lines: ["兑换单号或取货码格式不对。", "The redemption number or the pickup code is not valid."] };
    case "forbidden":
    case "http_403":
      return { outcome: "forbidden", title: "✕ 没有权限 Not allowed",
        lines: ["该账号不是超市店员（clerk）。", "This account is not a clerk's."] };
    case "unauthenticated":
    case "http_401":
      return { outcome: "signed_out", title: "✕ 请重新登录 Sign in again", lines: ["登录已过期。", "Your sign-in expired."] };
    case "network":
    case "outcome_unknown":
      return { outcome: "unknown_outcome", title: "? 结果未知 No answer",
        lines: ["没有收到系统回应。请稍后重试：若已登记，会显示“已领取”。",
          "No answer came. Try again in a moment: if the pickup was recorded, it says so."] };
    default:
      return { outcome: "error", title: "✕ 出错了 Something went wrong",
        lines: [`${(err && err.message) || err}${code ? ` (${code})` : ""}`, "请稍后重试。 Try again in a moment."] };
  }
}
