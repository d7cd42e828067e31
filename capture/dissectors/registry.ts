/**
 * Every protocol Wirehook dissects, probed in priority order (lower first). Adding a protocol is
 * one new file in this folder plus one line here.
 */
import type { Dissector } from '../types';
import { http } from './http';
import { dns } from './dns';
// HTTP/2 (h2c) and gRPC; GraphQL rides on http and http2.
import { http2 } from './http2';
// weblayer
import { tlsx } from './tlsx';
import './websocket'; // registers the `websocket` upgrade hand-off (upgrades.ts)
// end weblayer
// protocols II: Redis, PostgreSQL, MySQL
import { redis } from './redis';
import { postgresql } from './pgsql';
import { mysql } from './mysql';
// Kafka, AMQP 0-9-1, MongoDB (issue 12)
import { kafka } from './kafka';
import { amqp } from './amqp';
import { mongodb } from './mongodb';

export const DISSECTORS: Dissector[] = [
  http,
  dns,
  http2,
  // weblayer
  tlsx,
  // end weblayer
  // protocols II: Redis, PostgreSQL, MySQL
  redis,
  postgresql,
  mysql,
  // Kafka, AMQP 0-9-1, MongoDB (issue 12)
  kafka,
  amqp,
  mongodb,
].sort((a, b) => a.priority - b.priority);
