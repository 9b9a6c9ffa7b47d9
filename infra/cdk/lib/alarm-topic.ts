// Who the alarm topic e-mails: `-c alarmEmail=a@example.com,b@example.com`
// (or AMAZON_LITE_ALARM_EMAIL). Each address gets its own SNS e-mail
// subscription, which it must confirm from the message SNS sends.

// A plain address: what SNS accepts as an e-mail endpoint.
const EMAIL = /^[^@\s,<>"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** The addresses of a comma-separated list (blanks ignored, duplicates once); a malformed one fails the synth. */
export function parseAlarmEmails(value: string | undefined): string[] {
  const out: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    const email = raw.trim();
    if (email === '') continue;
    if (!EMAIL.test(email)) throw new Error(`alarmEmail: ${JSON.stringify(email)} is not an e-mail address`);
    if (!out.includes(email)) out.push(email);
  }
  return out;
}
