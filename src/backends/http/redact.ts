// Keeps secrets out of everything quanteval writes or prints: API keys in error texts, and
// credentials or query strings in server URLs (some APIs take the key as ?key=…).

/** A URL without user:password and without its query string (which may carry a key). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "[invalid url]";
  }
}

/**
 * `path` appended to the base URL's path, keeping the base's query string after it:
 * "http://h/v1?key=k" + "/tokenize" → "http://h/v1/tokenize?key=k".
 */
export function joinUrl(base: string, path: string): string {
  const u = new URL(base);
  const [p, q] = path.split("?", 2);
  u.pathname = u.pathname.replace(/\/+$/, "") + (p.startsWith("/") ? p : `/${p}`);
  if (q) for (const [k, v] of new URLSearchParams(q)) u.searchParams.append(k, v);
  return u.toString();
}

/** The secrets a URL carries: its password and every query value (raw and percent-encoded). */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const out = [u.password, decodeURIComponent(u.password)];
    for (const [, v] of u.searchParams) out.push(v, encodeURIComponent(v));
    return out.filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

/** Replaces every occurrence of the given secrets (and URL credentials or query strings) in a text. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Array<string | undefined>) {
    // Longest first, so a secret containing another is replaced whole.
    this.secrets = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 4))].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("[redacted]");
    // user:password@host and ?query in any URL that slipped into a message
    return out.replace(/(\bhttps?:\/\/)[^/\s@]+@/gi, "$1[redacted]@").replace(/(\bhttps?:\/\/[^\s?#]*)\?[^\s#]*/gi, "$1?[redacted]");
  }
}
