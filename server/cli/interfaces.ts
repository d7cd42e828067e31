// Placeholder until the owning issue lands; replaced by the real command.
import { UsageError } from './common';
export async function main(_argv: string[]): Promise<number> {
  throw new UsageError("'interfaces' is not built yet");
}
