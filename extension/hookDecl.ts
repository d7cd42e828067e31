/** A file that declares one of these top-level hooks is a hook script (the cheap check, on text). */
export const HOOK_NAMES = ['onItemCaptured', 'onItemQueried', 'onPacketCaptured', 'onJobPassed', 'onJobFailed', 'onHubAction'] as const;
const names = HOOK_NAMES.join('|');
export const HOOK_DECL = new RegExp(`\\bfunction\\s+(${names})\\b|\\b(${names})\\s*=`);
