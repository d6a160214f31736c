// One HTTP request and its whole body, under a deadline that a garbage collection cannot lose.
//
// Why by hand, and not `signal: AbortSignal.any([AbortSignal.timeout(ms), other])`: on Node 20
// a dependent signal made by AbortSignal.any is followed through weak references, so after a
// collection the timeout never reaches fetch. Reproduced here with `node --expose-gc`: a reply
// delayed 3 s was accepted under a 500 ms timeout in 3 of 3 tries, and CI saw the same thing
// under load (a fault-injecting proxy's slow /props reply taken as an answer). So the timer
// here is an ordinary setTimeout, held until the request settles, and the attempt is settled
// by a race with it: even if undici dropped the abort, the caller stops waiting on time. The
// abort is still sent, so the socket is released.

export interface FetchTextResult {
  status: number;
  retryAfter: string | null;
  text: string;
}

/** The error a deadline or a cancel settles the request with; `name` is "TimeoutError" or "AbortError". */
function abortError(name: "TimeoutError" | "AbortError", message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * `fetch(url, init)` and `res.text()`, settled within `timeoutMs` (TimeoutError) or when
 * `cancel` aborts (AbortError), whichever comes first.
 */
export async function fetchText(url: string, init: Omit<RequestInit, "signal">, timeoutMs: number, cancel?: AbortSignal): Promise<FetchTextResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const fail = (e: Error) => {
      controller.abort(e);
      reject(e);
    };
    timer = setTimeout(() => fail(abortError("TimeoutError", `no answer within ${timeoutMs} ms`)), timeoutMs);
    if (cancel) {
      onCancel = () => fail(abortError("AbortError", "cancelled"));
      if (cancel.aborted) onCancel();
      else cancel.addEventListener("abort", onCancel, { once: true });
    }
  });
  const request = (async () => {
    const res = await fetch(url, { ...init, signal: controller.signal });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() };
  })();
  // The loser of the race must not surface as an unhandled rejection.
  request.catch(() => undefined);
  stop.catch(() => undefined);
  try {
    return await Promise.race([request, stop]);
  } finally {
    clearTimeout(timer);
    if (onCancel) cancel?.removeEventListener("abort", onCancel);
  }
}
