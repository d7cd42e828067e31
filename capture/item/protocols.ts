/**
 * The protocol table (kubeshark-compat §7): every item carries its full entry, and the KFL
 * macros are derived from `macro`/`abbr`. Values are Kubeshark's 2023 ones, plus `layer3`.
 */
import type { Protocol } from './schema';

function proto(p: Omit<Protocol, 'layer3' | 'foregroundColor'> & { foregroundColor?: string }): Protocol {
  return Object.freeze({ foregroundColor: '#ffffff', layer3: 'ip', ...p, ports: Object.freeze([...p.ports]) as string[] });
}

export const PROTOCOLS = Object.freeze({
  http10: proto({ name: 'http', version: '1.0', abbr: 'HTTP', longName: 'Hypertext Transfer Protocol -- HTTP/1.0', macro: 'http', backgroundColor: '#326de6', fontSize: 12, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080'], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc1945' }),
  http11: proto({ name: 'http', version: '1.1', abbr: 'HTTP', longName: 'Hypertext Transfer Protocol -- HTTP/1.1', macro: 'http', backgroundColor: '#326de6', fontSize: 12, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080'], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc2616' }),
  http2: proto({ name: 'http', version: '2.0', abbr: 'HTTP/2', longName: 'Hypertext Transfer Protocol Version 2 (HTTP/2)', macro: 'http2', backgroundColor: '#244c5a', fontSize: 11, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080'], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc7540' }),
  grpc: proto({ name: 'http', version: '2.0', abbr: 'gRPC', longName: 'Hypertext Transfer Protocol Version 2 (HTTP/2) [ gRPC over HTTP/2 ]', macro: 'grpc', backgroundColor: '#244c5a', fontSize: 11, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080', '50051'], referenceLink: 'https://grpc.github.io/grpc/core/md_doc__p_r_o_t_o_c_o_l-_h_t_t_p2.html' }),
  gql11: proto({ name: 'http', version: '1.1', abbr: 'GQL', longName: 'Hypertext Transfer Protocol -- HTTP/1.1 [ GraphQL over HTTP/1.1 ]', macro: 'gql', backgroundColor: '#e10098', fontSize: 12, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080'], referenceLink: 'https://graphql.org/learn/serving-over-http/' }),
  // GraphQL over HTTP/2 (kubeshark-compat §7, GraphQL/2 row).
  gql2: proto({ name: 'http', version: '2.0', abbr: 'GQL', longName: 'Hypertext Transfer Protocol Version 2 (HTTP/2) [ GraphQL over HTTP/2 ]', macro: 'gql', backgroundColor: '#e10098', fontSize: 12, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080', '50051'], referenceLink: 'https://graphql.org/learn/serving-over-http/' }),
  amqp: proto({ name: 'amqp', version: '0-9-1', abbr: 'AMQP', longName: 'Advanced Message Queuing Protocol 0-9-1', macro: 'amqp', backgroundColor: '#ff6600', fontSize: 12, priority: 1, layer4: 'tcp', ports: ['5671', '5672'], referenceLink: 'https://www.rabbitmq.com/amqp-0-9-1-reference.html' }),
  kafka: proto({ name: 'kafka', version: '12', abbr: 'KAFKA', longName: 'Apache Kafka Protocol', macro: 'kafka', backgroundColor: '#000000', fontSize: 11, priority: 2, layer4: 'tcp', ports: ['9092'], referenceLink: 'https://kafka.apache.org/protocol' }),
  redis: proto({ name: 'redis', version: '3.x', abbr: 'REDIS', longName: 'Redis Serialization Protocol', macro: 'redis', backgroundColor: '#a41e11', fontSize: 11, priority: 3, layer4: 'tcp', ports: ['6379'], referenceLink: 'https://redis.io/topics/protocol' }),
  dns: proto({ name: 'dns', version: '0', abbr: 'DNS', longName: 'Domain Name System', macro: 'dns', backgroundColor: '#606060', fontSize: 12, priority: 4, layer4: 'udp', ports: [], referenceLink: 'https://www.iana.org/assignments/dns-parameters/dns-parameters.xhtml' }),
  /** DNS carried over TCP (RFC 7766): same table entry, layer4 tcp. */
  dnsTcp: proto({ name: 'dns', version: '0', abbr: 'DNS', longName: 'Domain Name System', macro: 'dns', backgroundColor: '#606060', fontSize: 12, priority: 4, layer4: 'tcp', ports: [], referenceLink: 'https://www.iana.org/assignments/dns-parameters/dns-parameters.xhtml' }),
  // --- weblayer: WebSocket, TLS handshakes, ICMP, flow items. Kubeshark publishes no table
  // values for these (kubeshark-compat §7): names from its dissector list, colours ours.
  ws: proto({ name: 'ws', version: '13', abbr: 'WS', longName: 'WebSocket', macro: 'ws', backgroundColor: '#7b3fa0', fontSize: 12, priority: 0, layer4: 'tcp', ports: ['80', '443', '8080'], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc6455' }),
  tlsx: proto({ name: 'tlsx', version: '1.2', abbr: 'TLSX', longName: 'Transport Layer Security handshake', macro: 'tlsx', backgroundColor: '#2e7d32', fontSize: 11, priority: 5, layer4: 'tcp', ports: ['443'], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc5246' }),
  icmp: proto({ name: 'icmp', version: '4', abbr: 'ICMP', longName: 'Internet Control Message Protocol', macro: 'icmp', backgroundColor: '#c0392b', fontSize: 12, priority: 6, layer4: 'icmp', ports: [], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc792' }),
  icmp6: proto({ name: 'icmp', version: '6', abbr: 'ICMPv6', longName: 'Internet Control Message Protocol for IPv6', macro: 'icmp', backgroundColor: '#c0392b', fontSize: 11, priority: 6, layer4: 'icmp', ports: [], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc4443' }),
  tcpConn: proto({ name: 'tcp-conn', version: '0', abbr: 'TCP', longName: 'Transmission Control Protocol connection', macro: 'conn', backgroundColor: '#5d6d7e', fontSize: 12, priority: 9, layer4: 'tcp', ports: [], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc9293' }),
  udpConn: proto({ name: 'udp-conn', version: '0', abbr: 'UDP', longName: 'User Datagram Protocol flow', macro: 'conn', backgroundColor: '#85929e', fontSize: 12, priority: 9, layer4: 'udp', ports: [], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc768' }),
  tcpFlow: proto({ name: 'tcp-flow', version: '0', abbr: 'TCP', longName: 'Transmission Control Protocol flow report', macro: 'flow', backgroundColor: '#5d6d7e', fontSize: 12, priority: 9, layer4: 'tcp', ports: [], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc9293' }),
  udpFlow: proto({ name: 'udp-flow', version: '0', abbr: 'UDP', longName: 'User Datagram Protocol flow report', macro: 'flow', backgroundColor: '#85929e', fontSize: 12, priority: 9, layer4: 'udp', ports: [], referenceLink: 'https://datatracker.ietf.org/doc/html/rfc768' }),
  // --- end weblayer
  // protocols II: Redis's entry is above (Kubeshark's); PostgreSQL and MySQL have no public
  // Kubeshark values: PostgreSQL's and MySQL's brand colours, ports from Kubeshark's Helm portMapping.
  postgresql: proto({ name: 'postgresql', version: '3.0', abbr: 'PGSQL', longName: 'PostgreSQL Frontend/Backend Protocol', macro: 'postgresql', backgroundColor: '#336791', fontSize: 11, priority: 5, layer4: 'tcp', ports: ['5432'], referenceLink: 'https://www.postgresql.org/docs/current/protocol.html' }),
  mysql: proto({ name: 'mysql', version: '10', abbr: 'MYSQL', longName: 'MySQL Client/Server Protocol', macro: 'mysql', backgroundColor: '#00758f', fontSize: 11, priority: 6, layer4: 'tcp', ports: ['3306'], referenceLink: 'https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html' }),
  // Kafka, AMQP, MongoDB dissectors (issue 12). Kubeshark publishes no MongoDB entry: ours uses
  // MongoDB's own green, the next free priority and the port Kubeshark's Helm chart maps.
  mongodb: proto({ name: 'mongodb', version: '1', abbr: 'MONGODB', longName: 'MongoDB Wire Protocol', macro: 'mongodb', backgroundColor: '#00684a', fontSize: 11, priority: 5, layer4: 'tcp', ports: ['27017'], referenceLink: 'https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/' }),
} satisfies Record<string, Protocol>);

export type ProtocolKey = keyof typeof PROTOCOLS;
