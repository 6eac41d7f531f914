/**
 * Something the user can fix — a bad address, an unreadable file, a missing privilege.
 * Modules throw their own subclass with one sentence; `main` prints it and exits 2, so no
 * command has to translate errors one call site at a time.
 */
export class UserError extends Error {}
