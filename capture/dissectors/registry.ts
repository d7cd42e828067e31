/**
 * Every protocol Wirehook dissects, probed in priority order (lower first). Adding a protocol is
 * one new file in this folder plus one line here.
 */
import type { Dissector } from '../types';
import { http } from './http';
import { dns } from './dns';
// weblayer
import { tlsx } from './tlsx';
import './websocket'; // registers the `websocket` upgrade hand-off (upgrades.ts)
// end weblayer

export const DISSECTORS: Dissector[] = [
  http,
  dns,
  // weblayer
  tlsx,
  // end weblayer
].sort((a, b) => a.priority - b.priority);
