/**
 * Kafka wire format (https://kafka.apache.org/protocol): request/response headers, the API key
 * table, and payload decoders for the APIs clients use most (Produce, Fetch, ListOffsets,
 * Metadata, OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup,
 * SyncGroup, ApiVersions, CreateTopics, DeleteTopics), in every version up to the ones current
 * in 2026, flexible (compact, tagged-field) versions included. Hand-written: no maintained
 * JavaScript library decodes Kafka requests *and* responses from raw bytes (kafkajs only encodes
 * requests and decodes responses, through internal modules).
 *
 * Decoders read with a bounds-checked cursor that throws KafkaShort at the end of the bytes; a
 * truncated frame therefore yields the fields read so far.
 */

export class KafkaShort extends Error {}

/** API key → name, as the protocol guide spells them (Kubeshark's `apiKeyName` is CamelCase too). */
export const API_NAMES: readonly string[] = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'LeaderAndIsr', 'StopReplica', 'UpdateMetadata',
  'ControlledShutdown', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator', 'JoinGroup', 'Heartbeat',
  'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'SaslHandshake', 'ApiVersions',
  'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'OffsetForLeaderEpoch',
  'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'WriteTxnMarkers', 'TxnOffsetCommit',
  'DescribeAcls', 'CreateAcls', 'DeleteAcls', 'DescribeConfigs', 'AlterConfigs',
  'AlterReplicaLogDirs', 'DescribeLogDirs', 'SaslAuthenticate', 'CreatePartitions',
  'CreateDelegationToken', 'RenewDelegationToken', 'ExpireDelegationToken',
  'DescribeDelegationToken', 'DeleteGroups', 'ElectLeaders', 'IncrementalAlterConfigs',
  'AlterPartitionReassignments', 'ListPartitionReassignments', 'OffsetDelete',
  'DescribeClientQuotas', 'AlterClientQuotas', 'DescribeUserScramCredentials',
  'AlterUserScramCredentials', 'Vote', 'BeginQuorumEpoch', 'EndQuorumEpoch', 'DescribeQuorum',
  'AlterPartition', 'UpdateFeatures', 'Envelope', 'FetchSnapshot', 'DescribeCluster',
  'DescribeProducers', 'BrokerRegistration', 'BrokerHeartbeat', 'UnregisterBroker',
  'DescribeTransactions', 'ListTransactions', 'AllocateProducerIds', 'ConsumerGroupHeartbeat',
  'ConsumerGroupDescribe', 'ControllerRegistration', 'GetTelemetrySubscriptions', 'PushTelemetry',
  'AssignReplicasToDirs', 'ListClientMetricsResources', 'DescribeTopicPartitions',
];

/** Highest API version a request may claim and still be taken for Kafka (current maxima are ≤ 17). */
export const MAX_VERSION = 20;

/** First flexible (compact strings, tagged fields) version per API key; Infinity when none. */
const FLEX_FROM: Record<number, number> = {
  0: 9, 1: 12, 2: 6, 3: 9, 4: 4, 5: 2, 6: 6, 7: 3, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4,
  15: 5, 16: 3, 18: 3, 19: 5, 20: 4, 21: 2, 22: 2, 23: 4, 24: 3, 25: 3, 26: 3, 27: 1, 28: 3,
  29: 2, 30: 2, 31: 2, 32: 4, 33: 2, 34: 2, 35: 2, 36: 2, 37: 2, 38: 2, 39: 2, 40: 2, 41: 2,
  42: 2, 43: 2, 44: 1, 45: 0, 46: 0, 47: Infinity, 48: 1, 49: 1,
};

/** Whether `version` of `apiKey` uses the flexible encoding (keys past 49 are flexible throughout). */
export function isFlexible(apiKey: number, version: number): boolean {
  const f = apiKey === 17 ? Infinity : FLEX_FROM[apiKey] ?? 0;
  return version >= f;
}

/** "ApiVersions" → "API_VERSIONS" (KFL2's `kafka_api_key_name`, the Java enum's spelling). */
export function upperName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Bounds-checked reader. Numbers past 2^53 (int64) come out as strings. */
export class Reader {
  constructor(readonly b: Buffer, public p = 0) {}
  private need(n: number): void {
    if (this.p + n > this.b.length) throw new KafkaShort('truncated');
  }
  get left(): number { return this.b.length - this.p; }
  i8(): number { this.need(1); return this.b.readInt8(this.p++); }
  bool(): boolean { return this.i8() !== 0; }
  i16(): number { this.need(2); const v = this.b.readInt16BE(this.p); this.p += 2; return v; }
  i32(): number { this.need(4); const v = this.b.readInt32BE(this.p); this.p += 4; return v; }
  i64(): number | string {
    this.need(8);
    const v = this.b.readBigInt64BE(this.p);
    this.p += 8;
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
  }
  uuid(): string { this.need(16); const s = this.b.toString('hex', this.p, this.p + 16); this.p += 16; return s; }
  uvarint(): number {
    let v = 0, shift = 0;
    for (;;) {
      this.need(1);
      const x = this.b[this.p++];
      v += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return v;
      shift += 7;
      if (shift > 63) throw new KafkaShort('varint too long');
    }
  }
  varint(): number { const u = this.uvarint(); return u % 2 === 0 ? u / 2 : -(u + 1) / 2; }
  private text(n: number): string {
    if (n < 0) throw new KafkaShort('negative length');
    this.need(n);
    const s = this.b.toString('utf8', this.p, this.p + n);
    this.p += n;
    return s;
  }
  private raw(n: number): Buffer {
    if (n < 0) throw new KafkaShort('negative length');
    this.need(n);
    const s = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return s;
  }
  /** STRING / NULLABLE_STRING (int16 length, -1 = null). */
  str(): string | null { const n = this.i16(); return n < 0 ? null : this.text(n); }
  /** COMPACT_(NULLABLE_)STRING (uvarint length + 1, 0 = null). */
  cstr(): string | null { const n = this.uvarint(); return n === 0 ? null : this.text(n - 1); }
  bytes(): Buffer | null { const n = this.i32(); return n < 0 ? null : this.raw(n); }
  cbytes(): Buffer | null { const n = this.uvarint(); return n === 0 ? null : this.raw(n - 1); }
  /** ARRAY (int32 count, -1 = null). */
  arr<T>(f: () => T): T[] | null {
    const n = this.i32();
    if (n < 0) return null;
    return this.items(n, f);
  }
  carr<T>(f: () => T): T[] | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.items(n - 1, f);
  }
  private items<T>(n: number, f: () => T): T[] {
    // Each element takes at least one byte: a count past the bytes left is a broken frame.
    if (n > this.left) throw new KafkaShort('array count past the end');
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(f());
    return out;
  }
  /** Skips a tagged-field section. */
  tags(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      const len = this.uvarint();
      this.raw(len);
    }
  }
}

/** Version-aware reading helpers for one message (flexible or not). */
class V {
  constructor(readonly r: Reader, readonly v: number, readonly flex: boolean) {}
  s(): string | null { return this.flex ? this.r.cstr() : this.r.str(); }
  b(): Buffer | null { return this.flex ? this.r.cbytes() : this.r.bytes(); }
  a<T>(f: () => T): T[] | null {
    return this.flex ? this.r.carr(f) : this.r.arr(f);
  }
  /** An array of structs: each struct ends with its tagged fields when flexible. */
  as<T>(f: () => T): T[] | null {
    return this.a(() => { const x = f(); if (this.flex) this.r.tags(); return x; });
  }
  int32s(): number[] | null { return this.a(() => this.r.i32()); }
  tags(): void { if (this.flex) this.r.tags(); }
}

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Offset of the payload. */
  body: number;
}

/** Request header v1/v2 (v2 adds tagged fields after the client id). `b` starts after the size. */
export function readRequestHeader(b: Buffer): RequestHeader {
  const r = new Reader(b);
  const apiKey = r.i16();
  const apiVersion = r.i16();
  const correlationId = r.i32();
  const clientId = r.str();
  if (isFlexible(apiKey, apiVersion) && !(apiKey === 7 && apiVersion === 0)) r.tags();
  return { apiKey, apiVersion, correlationId, clientId, body: r.p };
}

/** Offset of a response payload (`b` starts after the size): correlation id, then tags when flexible (never for ApiVersions). */
export function responseBody(b: Buffer, apiKey: number, apiVersion: number): number {
  const r = new Reader(b, 4);
  if (apiKey !== 18 && isFlexible(apiKey, apiVersion)) r.tags();
  return r.p;
}

type Obj = Record<string, unknown>;

/** A record batch (magic 2) or legacy message set: record count and, uncompressed, keys/values as text. */
function records(buf: Buffer | null, cap: number): Obj | null {
  if (!buf) return null;
  const out: Obj = { size: buf.length };
  const r = new Reader(buf);
  try {
    if (buf.length >= 17 && buf[16] === 2) {
      const batch: Obj = {};
      out.recordBatch = batch;
      batch.baseOffset = r.i64();
      batch.batchLength = r.i32();
      batch.partitionLeaderEpoch = r.i32();
      batch.magic = r.i8();
      batch.crc = r.i32() >>> 0;
      const attributes = r.i16();
      batch.attributes = attributes;
      batch.lastOffsetDelta = r.i32();
      batch.firstTimestamp = r.i64();
      batch.maxTimestamp = r.i64();
      batch.producerId = r.i64();
      batch.producerEpoch = r.i16();
      batch.baseSequence = r.i32();
      const n = r.i32();
      batch.recordCount = n;
      const list: Obj[] = [];
      batch.record = list;
      // Compressed batches (attributes & 7) carry their records compressed: counted, not shown.
      if ((attributes & 7) === 0) {
        for (let i = 0; i < n && r.left > 0; i++) {
          const len = r.varint();
          const end = r.p + len;
          r.i8();
          const rec: Obj = { timestampDelta: r.varint(), offsetDelta: r.varint() };
          const kl = r.varint();
          rec.key = kl < 0 ? null : text(r, kl, cap);
          const vl = r.varint();
          rec.value = vl < 0 ? null : text(r, vl, cap);
          const hn = r.varint();
          const headers: Obj[] = [];
          for (let h = 0; h < hn; h++) {
            const hk = r.varint();
            const key = text(r, hk, cap);
            const hv = r.varint();
            headers.push({ key, value: hv < 0 ? null : text(r, hv, cap) });
          }
          rec.headers = headers;
          list.push(rec);
          r.p = end;
        }
      }
    } else {
      // Message set v0/v1: offset int64, size int32, crc, magic, attributes, [timestamp], key, value.
      const msgs: Obj[] = [];
      out.messageSet = msgs;
      while (r.left >= 12) {
        const offset = r.i64();
        const size = r.i32();
        const end = r.p + size;
        if (end > buf.length) break;
        r.i32();
        const magic = r.i8();
        r.i8();
        if (magic === 1) r.i64();
        const k = r.bytes();
        const v = r.bytes();
        msgs.push({ offset, key: k ? capText(k, cap) : null, value: v ? capText(v, cap) : null });
        r.p = end;
      }
    }
  } catch (e) {
    if (!(e instanceof KafkaShort)) throw e;
    out.truncated = true;
  }
  return out;
}

function capText(b: Buffer, cap: number): string {
  return (b.length > cap ? b.subarray(0, cap) : b).toString('utf8');
}
function text(r: Reader, n: number, cap: number): string {
  if (n < 0 || n > r.left) throw new KafkaShort('record field past the end');
  const s = capText(r.b.subarray(r.p, r.p + n), cap);
  r.p += n;
  return s;
}

export interface Decoded {
  payload: Obj;
  /** Topic → partitions, for the summary. */
  topics: Map<string, number[]>;
  /** Group id / coordinator key / transactional id the request is about, for the summary. */
  subject: string;
  /** Produce with acks 0: the broker sends no response. */
  noResponse: boolean;
  truncated: boolean;
}

function addTopic(d: Decoded, name: string | null, parts: (number | undefined)[]): void {
  if (name === null) return;
  const l = d.topics.get(name) ?? [];
  for (const p of parts) if (p !== undefined && !l.includes(p)) l.push(p);
  d.topics.set(name, l);
}

/** Decodes a request payload (b from the payload's start). Unknown APIs give `{}`. */
export function decodeRequest(apiKey: number, version: number, b: Buffer, cap: number): Decoded {
  const d: Decoded = { payload: {}, topics: new Map(), subject: '', noResponse: false, truncated: false };
  const x = new V(new Reader(b), version, isFlexible(apiKey, version));
  const r = x.r, p = d.payload, v = version;
  try {
    switch (apiKey) {
      case 0: { // Produce
        if (v >= 3) p.transactionalID = x.s();
        p.requiredAcks = r.i16();
        d.noResponse = p.requiredAcks === 0;
        p.timeout = r.i32();
        p.topicData = x.as(() => {
          const t: Obj = { topic: x.s() };
          t.partitions = x.as(() => ({ index: r.i32(), records: records(x.b(), cap) }));
          addTopic(d, t.topic as string, ((t.partitions as Obj[]) ?? []).map((q) => q.index as number));
          return t;
        });
        break;
      }
      case 1: { // Fetch
        p.replicaId = r.i32();
        p.maxWaitMs = r.i32();
        p.minBytes = r.i32();
        if (v >= 3) p.maxBytes = r.i32();
        if (v >= 4) p.isolationLevel = r.i8();
        if (v >= 7) { p.sessionId = r.i32(); p.sessionEpoch = r.i32(); }
        p.topics = x.as(() => {
          const t: Obj = v >= 13 ? { topicId: r.uuid() } : { topic: x.s() };
          t.partitions = x.as(() => {
            const q: Obj = { partition: r.i32() };
            if (v >= 9) q.currentLeaderEpoch = r.i32();
            q.fetchOffset = r.i64();
            if (v >= 12) q.lastFetchedEpoch = r.i32();
            if (v >= 5) q.logStartOffset = r.i64();
            q.partitionMaxBytes = r.i32();
            return q;
          });
          addTopic(d, (t.topic as string) ?? (t.topicId as string), ((t.partitions as Obj[]) ?? []).map((q) => q.partition as number));
          return t;
        });
        if (v >= 7) p.forgottenTopicsData = x.as(() => ({ topic: v >= 13 ? r.uuid() : x.s(), partitions: x.int32s() }));
        if (v >= 11) p.rackId = x.s();
        break;
      }
      case 2: { // ListOffsets
        p.replicaId = r.i32();
        if (v >= 2) p.isolationLevel = r.i8();
        p.topics = x.as(() => {
          const t: Obj = { name: x.s() };
          t.partitions = x.as(() => {
            const q: Obj = { partitionIndex: r.i32() };
            if (v >= 4) q.currentLeaderEpoch = r.i32();
            q.timestamp = r.i64();
            if (v === 0) q.maxNumOffsets = r.i32();
            return q;
          });
          addTopic(d, t.name as string, ((t.partitions as Obj[]) ?? []).map((q) => q.partitionIndex as number));
          return t;
        });
        break;
      }
      case 3: { // Metadata
        p.topics = x.as(() => {
          const t: Obj = {};
          if (v >= 10) t.topicId = r.uuid();
          t.name = x.s();
          addTopic(d, t.name as string, []);
          return t;
        });
        if (v >= 4) p.allowAutoTopicCreation = r.bool();
        if (v >= 8 && v <= 10) p.includeClusterAuthorizedOperations = r.bool();
        if (v >= 8) p.includeTopicAuthorizedOperations = r.bool();
        break;
      }
      case 8: { // OffsetCommit
        p.groupId = x.s();
        d.subject = (p.groupId as string) ?? '';
        if (v >= 1) { p.generationId = r.i32(); p.memberId = x.s(); }
        if (v >= 7) p.groupInstanceId = x.s();
        if (v >= 2 && v <= 4) p.retentionTimeMs = r.i64();
        p.topics = x.as(() => {
          const t: Obj = { name: x.s() };
          t.partitions = x.as(() => {
            const q: Obj = { partitionIndex: r.i32(), committedOffset: r.i64() };
            if (v >= 6) q.committedLeaderEpoch = r.i32();
            if (v === 1) q.commitTimestamp = r.i64();
            q.committedMetadata = x.s();
            return q;
          });
          addTopic(d, t.name as string, ((t.partitions as Obj[]) ?? []).map((q) => q.partitionIndex as number));
          return t;
        });
        break;
      }
      case 9: { // OffsetFetch
        const topics = () => x.as(() => {
          const t: Obj = { name: x.s(), partitionIndexes: x.int32s() };
          addTopic(d, t.name as string, (t.partitionIndexes as number[]) ?? []);
          return t;
        });
        if (v >= 8) {
          p.groups = x.as(() => {
            const g: Obj = { groupId: x.s(), topics: topics() };
            d.subject ||= (g.groupId as string) ?? '';
            return g;
          });
        } else {
          p.groupId = x.s();
          d.subject = (p.groupId as string) ?? '';
          p.topics = topics();
        }
        if (v >= 7) p.requireStable = r.bool();
        break;
      }
      case 10: { // FindCoordinator
        if (v <= 3) p.key = x.s();
        if (v >= 1) p.keyType = r.i8();
        if (v >= 4) p.coordinatorKeys = x.a(() => x.s());
        d.subject = (p.key as string) ?? ((p.coordinatorKeys as string[]) ?? []).join(',');
        break;
      }
      case 11: { // JoinGroup
        p.groupId = x.s();
        d.subject = (p.groupId as string) ?? '';
        p.sessionTimeoutMs = r.i32();
        if (v >= 1) p.rebalanceTimeoutMs = r.i32();
        p.memberId = x.s();
        if (v >= 5) p.groupInstanceId = x.s();
        p.protocolType = x.s();
        p.protocols = x.as(() => ({ name: x.s(), metadata: x.b()?.toString('base64') ?? null }));
        if (v >= 8) p.reason = x.s();
        break;
      }
      case 12: { // Heartbeat
        p.groupId = x.s();
        d.subject = (p.groupId as string) ?? '';
        p.generationId = r.i32();
        p.memberId = x.s();
        if (v >= 3) p.groupInstanceId = x.s();
        break;
      }
      case 13: { // LeaveGroup
        p.groupId = x.s();
        d.subject = (p.groupId as string) ?? '';
        if (v <= 2) p.memberId = x.s();
        else p.members = x.as(() => { const m: Obj = { memberId: x.s(), groupInstanceId: x.s() }; if (v >= 5) m.reason = x.s(); return m; });
        break;
      }
      case 14: { // SyncGroup
        p.groupId = x.s();
        d.subject = (p.groupId as string) ?? '';
        p.generationId = r.i32();
        p.memberId = x.s();
        if (v >= 3) p.groupInstanceId = x.s();
        if (v >= 5) { p.protocolType = x.s(); p.protocolName = x.s(); }
        p.assignments = x.as(() => ({ memberId: x.s(), assignment: x.b()?.toString('base64') ?? null }));
        break;
      }
      case 18: { // ApiVersions
        if (v >= 3) { p.clientSoftwareName = x.s(); p.clientSoftwareVersion = x.s(); }
        break;
      }
      case 19: { // CreateTopics
        p.topics = x.as(() => {
          const t: Obj = { name: x.s(), numPartitions: r.i32(), replicationFactor: r.i16() };
          t.assignments = x.as(() => ({ partitionIndex: r.i32(), brokerIds: x.int32s() }));
          t.configs = x.as(() => ({ name: x.s(), value: x.s() }));
          addTopic(d, t.name as string, []);
          return t;
        });
        p.timeoutMs = r.i32();
        if (v >= 1) p.validateOnly = r.bool();
        break;
      }
      case 20: { // DeleteTopics
        if (v >= 6) p.topics = x.as(() => { const t = { name: x.s(), topicId: r.uuid() }; addTopic(d, t.name, []); return t; });
        else p.topicNames = x.a(() => { const n = x.s(); addTopic(d, n, []); return n; });
        p.timeoutMs = r.i32();
        break;
      }
      default:
        return d;
    }
    x.tags();
  } catch (e) {
    if (!(e instanceof KafkaShort)) throw e;
    d.truncated = true;
  }
  return d;
}

/** Decodes a response payload. Unknown APIs give `{}`; `errorCode` is set where the response has a top-level one. */
export function decodeResponse(apiKey: number, version: number, b: Buffer, cap: number): { payload: Obj; truncated: boolean } {
  const p: Obj = {};
  const x = new V(new Reader(b), version, apiKey !== 18 && isFlexible(apiKey, version));
  // ApiVersions v3+ bodies are flexible even though their header is not.
  const y = apiKey === 18 ? new V(x.r, version, isFlexible(18, version)) : x;
  const r = x.r, v = version;
  let truncated = false;
  try {
    switch (apiKey) {
      case 0: { // Produce
        p.responses = x.as(() => ({
          name: x.s(),
          partitionResponses: x.as(() => {
            const q: Obj = { index: r.i32(), errorCode: r.i16(), baseOffset: r.i64() };
            if (v >= 2) q.logAppendTimeMs = r.i64();
            if (v >= 5) q.logStartOffset = r.i64();
            if (v >= 8) { q.recordErrors = x.as(() => ({ batchIndex: r.i32(), batchIndexErrorMessage: x.s() })); q.errorMessage = x.s(); }
            return q;
          }),
        }));
        if (v >= 1) p.throttleTimeMs = r.i32();
        break;
      }
      case 1: { // Fetch
        if (v >= 1) p.throttleTimeMs = r.i32();
        if (v >= 7) { p.errorCode = r.i16(); p.sessionId = r.i32(); }
        p.responses = x.as(() => {
          const t: Obj = v >= 13 ? { topicId: r.uuid() } : { topic: x.s() };
          t.partitions = x.as(() => {
            const q: Obj = { partitionIndex: r.i32(), errorCode: r.i16(), highWatermark: r.i64() };
            if (v >= 4) q.lastStableOffset = r.i64();
            if (v >= 5) q.logStartOffset = r.i64();
            if (v >= 4) q.abortedTransactions = x.as(() => ({ producerId: r.i64(), firstOffset: r.i64() }));
            if (v >= 11) q.preferredReadReplica = r.i32();
            q.records = records(x.b(), cap);
            return q;
          });
          return t;
        });
        break;
      }
      case 2: { // ListOffsets
        if (v >= 2) p.throttleTimeMs = r.i32();
        p.topics = x.as(() => ({
          name: x.s(),
          partitions: x.as(() => {
            const q: Obj = { partitionIndex: r.i32(), errorCode: r.i16() };
            if (v === 0) q.oldStyleOffsets = x.a(() => r.i64());
            else { q.timestamp = r.i64(); q.offset = r.i64(); }
            if (v >= 4) q.leaderEpoch = r.i32();
            return q;
          }),
        }));
        break;
      }
      case 3: { // Metadata
        if (v >= 3) p.throttleTimeMs = r.i32();
        p.brokers = x.as(() => {
          const br: Obj = { nodeId: r.i32(), host: x.s(), port: r.i32() };
          if (v >= 1) br.rack = x.s();
          return br;
        });
        if (v >= 2) p.clusterId = x.s();
        if (v >= 1) p.controllerId = r.i32();
        p.topics = x.as(() => {
          const t: Obj = { errorCode: r.i16(), name: x.s() };
          if (v >= 10) t.topicId = r.uuid();
          if (v >= 1) t.isInternal = r.bool();
          t.partitions = x.as(() => {
            const q: Obj = { errorCode: r.i16(), partitionIndex: r.i32(), leaderId: r.i32() };
            if (v >= 7) q.leaderEpoch = r.i32();
            q.replicaNodes = x.int32s();
            q.isrNodes = x.int32s();
            if (v >= 5) q.offlineReplicas = x.int32s();
            return q;
          });
          if (v >= 8) t.topicAuthorizedOperations = r.i32();
          return t;
        });
        if (v >= 8 && v <= 10) p.clusterAuthorizedOperations = r.i32();
        break;
      }
      case 8: { // OffsetCommit
        if (v >= 3) p.throttleTimeMs = r.i32();
        p.topics = x.as(() => ({ name: x.s(), partitions: x.as(() => ({ partitionIndex: r.i32(), errorCode: r.i16() })) }));
        break;
      }
      case 9: { // OffsetFetch
        if (v >= 3) p.throttleTimeMs = r.i32();
        const parts = () => x.as(() => {
          const q: Obj = { partitionIndex: r.i32(), committedOffset: r.i64() };
          if (v >= 5) q.committedLeaderEpoch = r.i32();
          q.metadata = x.s();
          q.errorCode = r.i16();
          return q;
        });
        if (v >= 8) {
          p.groups = x.as(() => ({ groupId: x.s(), topics: x.as(() => ({ name: x.s(), partitions: parts() })), errorCode: r.i16() }));
        } else {
          p.topics = x.as(() => ({ name: x.s(), partitions: parts() }));
          if (v >= 2) p.errorCode = r.i16();
        }
        break;
      }
      case 10: { // FindCoordinator
        if (v >= 1) p.throttleTimeMs = r.i32();
        if (v <= 3) {
          p.errorCode = r.i16();
          if (v >= 1) p.errorMessage = x.s();
          p.nodeId = r.i32(); p.host = x.s(); p.port = r.i32();
        } else {
          p.coordinators = x.as(() => ({ key: x.s(), nodeId: r.i32(), host: x.s(), port: r.i32(), errorCode: r.i16(), errorMessage: x.s() }));
        }
        break;
      }
      case 11: { // JoinGroup
        if (v >= 2) p.throttleTimeMs = r.i32();
        p.errorCode = r.i16();
        p.generationId = r.i32();
        if (v >= 7) p.protocolType = x.s();
        p.protocolName = x.s();
        p.leader = x.s();
        if (v >= 9) p.skipAssignment = r.bool();
        p.memberId = x.s();
        p.members = x.as(() => {
          const m: Obj = { memberId: x.s() };
          if (v >= 5) m.groupInstanceId = x.s();
          m.metadata = x.b()?.toString('base64') ?? null;
          return m;
        });
        break;
      }
      case 12: case 13: { // Heartbeat, LeaveGroup
        if (v >= 1) p.throttleTimeMs = r.i32();
        p.errorCode = r.i16();
        if (apiKey === 13 && v >= 3) p.members = x.as(() => ({ memberId: x.s(), groupInstanceId: x.s(), errorCode: r.i16() }));
        break;
      }
      case 14: { // SyncGroup
        if (v >= 1) p.throttleTimeMs = r.i32();
        p.errorCode = r.i16();
        if (v >= 5) { p.protocolType = x.s(); p.protocolName = x.s(); }
        p.assignment = x.b()?.toString('base64') ?? null;
        break;
      }
      case 18: { // ApiVersions
        p.errorCode = r.i16();
        p.apiKeys = y.as(() => ({ apiKey: r.i16(), minVersion: r.i16(), maxVersion: r.i16() }));
        if (v >= 1) p.throttleTimeMs = r.i32();
        break;
      }
      case 19: { // CreateTopics
        if (v >= 2) p.throttleTimeMs = r.i32();
        p.topics = x.as(() => {
          const t: Obj = { name: x.s() };
          if (v >= 7) t.topicId = r.uuid();
          t.errorCode = r.i16();
          if (v >= 1) t.errorMessage = x.s();
          if (v >= 5) {
            t.numPartitions = r.i32();
            t.replicationFactor = r.i16();
            t.configs = x.as(() => ({ name: x.s(), value: x.s(), readOnly: r.bool(), configSource: r.i8(), isSensitive: r.bool() }));
          }
          return t;
        });
        break;
      }
      case 20: { // DeleteTopics
        if (v >= 1) p.throttleTimeMs = r.i32();
        p.responses = x.as(() => {
          const t: Obj = { name: x.s() };
          if (v >= 6) t.topicId = r.uuid();
          t.errorCode = r.i16();
          if (v >= 5) t.errorMessage = x.s();
          return t;
        });
        break;
      }
      default:
        break;
    }
  } catch (e) {
    if (!(e instanceof KafkaShort)) throw e;
    truncated = true;
  }
  return { payload: p, truncated };
}
