/**
 * Every protocol Wirehook dissects, probed in priority order (lower first). Adding a protocol is
 * one new file in this folder plus one line here.
 */
import type { Dissector } from '../types';
import { http } from './http';
import { dns } from './dns';
// Kafka, AMQP 0-9-1, MongoDB (issue 12)
import { kafka } from './kafka';
import { amqp } from './amqp';
import { mongodb } from './mongodb';

export const DISSECTORS: Dissector[] = [
  http,
  dns,
  // Kafka, AMQP 0-9-1, MongoDB (issue 12)
  kafka,
  amqp,
  mongodb,
].sort((a, b) => a.priority - b.priority);
