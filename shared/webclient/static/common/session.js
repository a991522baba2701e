// The signed-in shell the staff clients (/dept/, /counter/) share: a page's sign-in (Cognito's hosted UI,
// or in the local stack its dev form), sign-out, and a small element builder. The page provides #signin,
// #signout, #who, #signed-out (shown while signed out) and #dev-form ([data-testid="dev-form"]: inputs
// named sub, groups and optionally dept), and marks itself on body: data-state "signed-out" until signed
// in, data-signed-in = the sub once it is.
import { token, claims, groups, signIn, signOut, handleRedirect, devSignInAvailable, devSignIn, config } from "./auth.js";

/** $ is document.getElementById. */
export const $ = (id) => document.getElementById(id);

/**
 * el builds an element: attrs "class", "text", data-*, aria-*, role, lang and for as attributes, others
 * as properties; kids appended (null and undefined skipped).
 */
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "lang" || k === "for") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
}

/**
 * startSession runs a page's sign-in: onSignedIn({claims, groups}) once a token is there (at load, after
 * the hosted UI's redirect or the dev form), onSignedOut() when there is none or the user signs out;
 * fail(text) shows what went wrong.
 */
export async function startSession({ onSignedIn, onSignedOut = () => {}, fail }) {
  const showSignedOut = async () => {
    document.body.dataset.state = "signed-out";
    delete document.body.dataset.signedIn;
    $("signed-out").hidden = false;
    $("signout").hidden = true;
    $("who").textContent = "";
    await onSignedOut();
    let dev = false;
    try {
      dev = await devSignInAvailable();
    } catch (e) {
      fail("config.json: " + e.message);
    }
    $("dev-form").hidden = !dev;
    $("signin").hidden = dev;
  };
  const signedIn = async () => {
    const c = claims();
    if (!c) return showSignedOut();
    const g = groups();
    $("who").textContent = [c.sub, c["custom:dept"], g.join(", ")].filter(Boolean).join(" · ");
    $("signout").hidden = false;
    $("signin").hidden = true;
    $("signed-out").hidden = true;
    document.body.dataset.signedIn = c.sub;
    await onSignedIn({ claims: c, groups: g });
  };

  $("dev-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await devSignIn({
        sub: f.sub.value.trim(),
        groups: f.groups.value.split(/[\s,]+/).filter(Boolean),
        dept: (f.dept && f.dept.value.trim()) || undefined,
      });
    } catch (e) {
      fail("本地登录失败 Local sign-in failed: " + e.message);
      return;
    }
    await signedIn();
  });
  $("signin").addEventListener("click", () => signIn().catch((e) => fail("登录失败 Sign-in failed: " + e.message)));
  $("signout").addEventListener("click", async () => {
    await signOut();
    await showSignedOut();
  });

  try {
    await handleRedirect();
  } catch (e) {
    fail("登录失败 Sign-in failed: " + e.message);
  }
  await config().catch((e) => fail("config.json: " + e.message));
  if (token()) await signedIn();
  else await showSignedOut();
}
