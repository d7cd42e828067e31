/**
 * Every protocol Wirehook dissects, probed in priority order (lower first). Adding a protocol is
 * one new file in this folder plus one line here.
 */
import type { Dissector } from '../types';
import { http } from './http';
import { dns } from './dns';
// protocols II: Redis, PostgreSQL, MySQL
import { redis } from './redis';
import { postgresql } from './pgsql';
import { mysql } from './mysql';

export const DISSECTORS: Dissector[] = [
  http,
  dns,
  // protocols II: Redis, PostgreSQL, MySQL
  redis,
  postgresql,
  mysql,
].sort((a, b) => a.priority - b.priority);
