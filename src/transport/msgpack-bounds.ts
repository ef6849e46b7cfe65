/**
 * A bound on what decoding one frame may allocate. @msgpack/msgpack allocates an array of the
 * announced length as soon as it reads an array header, before any element arrives, so ten
 * kilobytes of nested array headers announcing 200,000 elements each made a node allocate
 * three gigabytes and spend six seconds (found by test/fuzz/frames.ts). Every value takes at
 * least one byte, so a well-formed payload never announces more values than it has bytes
 * left; one pass over the headers, decoding nothing, refuses the payloads that do. Whatever
 * passes allocates at most a few words per payload byte.
 */

/** The big-endian length field of `width` bytes after the type byte; past the end, a length that cannot fit. */
function lengthField(view: DataView, at: number, width: 1 | 2 | 4): number {
  if (at + 1 + width > view.byteLength) return view.byteLength;
  return width === 1 ? view.getUint8(at + 1) : width === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1);
}

/** The bytes of the value's header, with the data of a string, binary or extension. */
function headBytes(view: DataView, at: number, type: number): number {
  if (type < 0xa0 || type >= 0xe0) return 1;
  if (type < 0xc0) return 1 + (type & 0x1f);
  switch (type) {
    case 0xcc: case 0xd0: return 2;
    case 0xcd: case 0xd1: case 0xd4: case 0xdc: case 0xde: return 3;
    case 0xd5: return 4;
    case 0xca: case 0xce: case 0xd2: case 0xdd: case 0xdf: return 5;
    case 0xd6: return 6;
    case 0xcb: case 0xcf: case 0xd3: return 9;
    case 0xd7: return 10;
    case 0xd8: return 18;
    case 0xc4: case 0xd9: return 2 + lengthField(view, at, 1);
    case 0xc5: case 0xda: return 3 + lengthField(view, at, 2);
    case 0xc6: case 0xdb: return 5 + lengthField(view, at, 4);
    case 0xc7: return 3 + lengthField(view, at, 1);
    case 0xc8: return 4 + lengthField(view, at, 2);
    case 0xc9: return 6 + lengthField(view, at, 4);
    // nil, false, true and the unused 0xc1 (which the decoder refuses).
    default: return 1;
  }
}

/** The values a container holds: a map holds a key and a value per entry. */
function headValues(view: DataView, at: number, type: number): number {
  if (type >= 0x80 && type < 0x90) return 2 * (type & 0x0f);
  if (type >= 0x90 && type < 0xa0) return type & 0x0f;
  switch (type) {
    case 0xdc: return lengthField(view, at, 2);
    case 0xdd: return lengthField(view, at, 4);
    case 0xde: return 2 * lengthField(view, at, 2);
    case 0xdf: return 2 * lengthField(view, at, 4);
    default: return 0;
  }
}

/** Why the payload cannot be well-formed msgpack, when it announces more than it holds; null otherwise. */
export function msgpackBoundsProblem(payload: Uint8Array): string | null {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const end = payload.byteLength;
  let at = 0;
  // Values still to read, the top-level one included.
  let pending = 1;
  while (pending > 0 && at < end) {
    const type = view.getUint8(at);
    pending += headValues(view, at, type) - 1;
    at += headBytes(view, at, type);
    if (at > end) return `a value runs past the end of the ${end}-byte payload`;
    if (pending > end - at) return `it announces ${pending} more values but only ${end - at} bytes follow`;
  }
  return null;
}
