/**
 * Every protocol Wirehook dissects, probed in priority order (lower first). Adding a protocol is
 * one new file in this folder plus one line here.
 */
import type { Dissector } from '../types';
import { http } from './http';
import { dns } from './dns';

export const DISSECTORS: Dissector[] = [
  http,
  dns,
].sort((a, b) => a.priority - b.priority);
