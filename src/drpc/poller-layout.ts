/** Int32 slots of the control block the reactor and its poll thread share. */
export const ARM = 0;
/** ARM values: nothing to do / poll the array now / exit. */
export const ARM_IDLE = 0;
export const ARM_POLL = 1;
export const ARM_STOP = 2;
/** Incremented by the poll thread after each poll(); the owner waits on it with Atomics.waitAsync. */
export const SEQ = 1;
export const NFDS = 2;
export const RESULT = 3;
export const ERRNO = 4;
export const TIMEOUT_MS = 5;
export const CONTROL_SLOTS = 8;
