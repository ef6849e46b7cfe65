/**
 * The X.509 v3 certificates (RFC 5280) of the cluster CA and its nodes, signed with ECDSA
 * P-256 and SHA-256: their parts encoded with ./der.js, and the fields that issuing and
 * describing a certificate read back out of one. Every choice of encoding left open by the
 * standards (string types of names, optional fields) is the one certificates of earlier
 * versions made, because a derived CA certificate must stay byte-identical to the one its
 * cluster's join tokens pin.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import * as der from './der.js';

const ecdsaWithSha256 = der.sequence(der.oid('1.2.840.10045.4.3.2'));

const attributeTypes = { CN: '2.5.4.3', OU: '2.5.4.11' } as const;
export type NameAttribute = readonly [keyof typeof attributeTypes, string];

/** A distinguished name with one attribute per relative name, in order. */
export function name(attributes: readonly NameAttribute[]): Buffer {
  return der.sequence(...attributes.map(([type, value]) => der.set(der.sequence(der.oid(attributeTypes[type]), directoryString(value)))));
}

/** PrintableString when the value keeps to its alphabet, otherwise UTF8String. */
function directoryString(value: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? der.printableString(value) : der.utf8String(value);
}

export interface TbsFields {
  /** The serial number's bytes, a positive integer. */
  readonly serial: Uint8Array;
  /** Encoded names. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The subject's encoded SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** Encoded extensions, in the order they appear. */
  readonly extensions: readonly Uint8Array[];
}

/** The TBSCertificate: what the issuer signs. */
export function tbsCertificate(fields: TbsFields): Buffer {
  return der.sequence(
    der.explicit(0, der.unsignedInteger(Uint8Array.of(2))), // v3, for the extensions
    der.unsignedInteger(fields.serial),
    ecdsaWithSha256,
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    fields.subject,
    fields.spki,
    der.explicit(3, der.sequence(...fields.extensions)),
  );
}

/** The certificate's DER: `tbs` and its signature, an encoded ECDSA-Sig-Value. */
export function signedCertificate(tbs: Uint8Array, signature: Uint8Array): Buffer {
  return der.sequence(tbs, ecdsaWithSha256, der.bitString(signature));
}

/** The ECDSA-Sig-Value (RFC 3279, 2.2.3) a certificate carries for a signature given as `r || s`. */
export function ecdsaSigValue(rs: Uint8Array): Buffer {
  const half = rs.length / 2;
  return der.sequence(der.unsignedInteger(rs.subarray(0, half)), der.unsignedInteger(rs.subarray(half)));
}

function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  // DER leaves out a field equal to its DEFAULT, and `critical` defaults to false.
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/**
 * Critical, as RFC 5280 wants it in a CA certificate. A CA's path length is 0: it signs node
 * certificates only, never another CA.
 */
export function basicConstraints(ca: boolean): Buffer {
  return extension('2.5.29.19', true, ca ? der.sequence(der.boolean(true), der.unsignedInteger(Uint8Array.of(0))) : der.sequence());
}

const keyUsageBits = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** Critical: a peer must not use the key for anything else, even if it does not know the extension. */
export function keyUsage(...usages: readonly (keyof typeof keyUsageBits)[]): Buffer {
  return extension('2.5.29.15', true, der.namedBits(usages.map((usage) => keyUsageBits[usage])));
}

const keyPurposes = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

export function extendedKeyUsage(...purposes: readonly (keyof typeof keyPurposes)[]): Buffer {
  return extension('2.5.29.37', false, der.sequence(...purposes.map((purpose) => der.oid(keyPurposes[purpose]))));
}

const subjectAltNameId = '2.5.29.17';
/** GeneralName's context tags. */
const dnsNameTag = 2;
const ipAddressTag = 7;

/** IP addresses first, then DNS names; at least one of them. */
export function subjectAltName(ipAddresses: readonly string[], dnsNames: readonly string[]): Buffer {
  const names = [...ipAddresses.map((ip) => der.implicit(ipAddressTag, ipBytes(ip))), ...dnsNames.map((dns) => der.implicit(dnsNameTag, Buffer.from(dns, 'latin1')))];
  return extension(subjectAltNameId, false, der.sequence(...names));
}

const subjectKeyIdentifierId = '2.5.29.14';

export function subjectKeyIdentifier(keyId: Uint8Array): Buffer {
  return extension(subjectKeyIdentifierId, false, der.octetString(keyId));
}

/** The issuer's key by its identifier (keyIdentifier, [0]), which chain building matches with the issuer's subjectKeyIdentifier. */
export function authorityKeyIdentifier(keyId: Uint8Array): Buffer {
  return extension('2.5.29.35', false, der.sequence(der.implicit(0, keyId)));
}

/** RFC 5280's key identifier (4.2.1.2, method 1): SHA-1 of the key's bits in `spki` (an encoded SubjectPublicKeyInfo). */
export function keyIdentifier(spki: Buffer): Buffer {
  const bits = element(der.read(content(spki)), 1, 'subjectPublicKey');
  return createHash('sha1').update(bits.content.subarray(1)).digest();
}

/** What issuing and describing take from a certificate. */
export interface CertificateFields {
  /** Encoded, to be copied as the issuer of the certificates this one signs. */
  readonly subject: Buffer;
  readonly spki: Buffer;
  /** extnValue contents, by the extension's encoded OID in hex. */
  readonly extensions: ReadonlyMap<string, Buffer>;
}

/** The fields of a certificate's DER (which `X509Certificate` has already accepted). */
export function readCertificate(certificate: Buffer): CertificateFields {
  const tbs = element(der.read(content(certificate)), 0, 'tbsCertificate');
  const all = der.read(tbs.content);
  // The version is absent in a v1 certificate.
  const fields = all[0]?.tag === 0xa0 ? all.slice(1) : all;
  const extensions = new Map<string, Buffer>();
  const extensionList = fields.find((field) => field.tag === 0xa3);
  for (const ext of extensionList === undefined ? [] : der.read(content(extensionList.content))) {
    const parts = der.read(ext.content);
    extensions.set(element(parts, 0, 'extnID').encoded.toString('hex'), element(parts, parts.length - 1, 'extnValue').content);
  }
  // serialNumber, signature, issuer and validity come before the subject.
  return { subject: element(fields, 4, 'subject').encoded, spki: element(fields, 5, 'subjectPublicKeyInfo').encoded, extensions };
}

export function subjectKeyIdentifierOf(fields: CertificateFields): Buffer | undefined {
  const value = fields.extensions.get(der.oid(subjectKeyIdentifierId).toString('hex'));
  return value === undefined ? undefined : content(value);
}

export function subjectAltNamesOf(fields: CertificateFields): { ipAddresses: string[]; dnsNames: string[] } {
  const value = fields.extensions.get(der.oid(subjectAltNameId).toString('hex'));
  const names = value === undefined ? [] : der.read(content(value));
  const ofTag = (tag: number): Buffer[] => names.filter((n) => n.tag === (0x80 | tag)).map((n) => n.content);
  return { ipAddresses: ofTag(ipAddressTag).map(ipText), dnsNames: ofTag(dnsNameTag).map((bytes) => bytes.toString('latin1')) };
}

/** The content of the one value `encoded` holds. */
function content(encoded: Buffer): Buffer {
  return element(der.read(encoded), 0, 'value').content;
}

function element(elements: readonly der.Element[], index: number, what: string): der.Element {
  const found = elements[index];
  if (found === undefined) throw new Error(`malformed certificate: no ${what}`);
  return found;
}

/** The 4 or 16 bytes of an address `isIP` accepts. */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // A zone (fe80::1%eth0) names an interface of one machine, which means nothing in a
  // certificate. The URL parser writes the rest in canonical form: hex groups, at most one "::".
  const canonical = new URL(`http://[${ip.replace(/%.*$/, '')}]`).hostname.slice(1, -1);
  const [head = [], tail] = canonical.split('::').map((part) => (part === '' ? [] : part.split(':')));
  const groups = tail === undefined ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), 2 * i));
  return bytes;
}

/** An address as RFC 5952 writes it: lowercase, the first longest run of two or more zero groups as "::". */
function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readUInt16BE(2 * i).toString(16));
  // The URL parser's serialization of an IPv6 host is exactly that form.
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}
