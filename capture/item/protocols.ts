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
  amqp: proto({ name: 'amqp', version: '0-9-1', abbr: 'AMQP', longName: 'Advanced Message Queuing Protocol 0-9-1', macro: 'amqp', backgroundColor: '#ff6600', fontSize: 12, priority: 1, layer4: 'tcp', ports: ['5671', '5672'], referenceLink: 'https://www.rabbitmq.com/amqp-0-9-1-reference.html' }),
  kafka: proto({ name: 'kafka', version: '12', abbr: 'KAFKA', longName: 'Apache Kafka Protocol', macro: 'kafka', backgroundColor: '#000000', fontSize: 11, priority: 2, layer4: 'tcp', ports: ['9092'], referenceLink: 'https://kafka.apache.org/protocol' }),
  redis: proto({ name: 'redis', version: '3.x', abbr: 'REDIS', longName: 'Redis Serialization Protocol', macro: 'redis', backgroundColor: '#a41e11', fontSize: 11, priority: 3, layer4: 'tcp', ports: ['6379'], referenceLink: 'https://redis.io/topics/protocol' }),
  dns: proto({ name: 'dns', version: '0', abbr: 'DNS', longName: 'Domain Name System', macro: 'dns', backgroundColor: '#606060', fontSize: 12, priority: 4, layer4: 'udp', ports: [], referenceLink: 'https://www.iana.org/assignments/dns-parameters/dns-parameters.xhtml' }),
  /** DNS carried over TCP (RFC 7766): same table entry, layer4 tcp. */
  dnsTcp: proto({ name: 'dns', version: '0', abbr: 'DNS', longName: 'Domain Name System', macro: 'dns', backgroundColor: '#606060', fontSize: 12, priority: 4, layer4: 'tcp', ports: [], referenceLink: 'https://www.iana.org/assignments/dns-parameters/dns-parameters.xhtml' }),
  // Kafka, AMQP, MongoDB dissectors (issue 12). Kubeshark publishes no MongoDB entry: ours uses
  // MongoDB's own green, the next free priority and the port Kubeshark's Helm chart maps.
  mongodb: proto({ name: 'mongodb', version: '1', abbr: 'MONGODB', longName: 'MongoDB Wire Protocol', macro: 'mongodb', backgroundColor: '#00684a', fontSize: 11, priority: 5, layer4: 'tcp', ports: ['27017'], referenceLink: 'https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/' }),
} satisfies Record<string, Protocol>);

export type ProtocolKey = keyof typeof PROTOCOLS;
