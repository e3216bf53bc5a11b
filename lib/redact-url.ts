/** A URL as it may be shown in a log line or an error: never its password. */
export function redactUrl (url: string): string {
  const u = new URL(url)
  u.password = ''
  return u.toString()
}
