// What the sign-in forms accept: an email address, a password of a sensible length, names. Each refusal
// names its form field, so the page shows it next to the input.
import { MIN_PASSWORD_LENGTH } from '../accounts/users.ts';
import { invalid } from '../shared/errors.ts';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const MAX_EMAIL_LENGTH = 254;
/** argon2 is slow on purpose; anything longer than this is not a password someone typed. */
export const MAX_PASSWORD_LENGTH = 1024;

export function normalizeEmail(text: string, field = 'email'): string {
  const email = text.trim().toLowerCase();
  if (email === '') throw invalid('Enter an email address.', { field });
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) {
    throw invalid(`"${truncate(text.trim())}" is not an email address.`, {
      help: 'For example ann@example.com.',
      field,
    });
  }
  return email;
}

export function checkNewPassword(password: string, field = 'password'): string {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw invalid(`Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`, {
      help: 'A few unrelated words make a long password that is easy to remember.',
      field,
    });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw invalid(`A password can have at most ${MAX_PASSWORD_LENGTH} characters.`, { field });
  }
  return password;
}

export function checkName(text: string, field: string, what: string): string {
  const name = text.trim().replace(/\s+/g, ' ');
  if (name === '') throw invalid(`Enter ${what}.`, { field });
  if (name.length > 200) throw invalid(`${capitalize(what)} can have at most 200 characters.`, { field });
  return name;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function truncate(text: string): string {
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}
