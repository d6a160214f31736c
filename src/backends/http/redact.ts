// Keeps secrets out of everything quanteval writes or prints: API keys in error texts, and
// credentials or query strings in server URLs.

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

/** Replaces every occurrence of the given secrets (and URL credentials) in a text. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Array<string | undefined>) {
    this.secrets = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("[redacted]");
    // user:password@host in any URL that slipped into a message
    return out.replace(/(\bhttps?:\/\/)[^/\s@]+@/gi, "$1[redacted]@");
  }
}
