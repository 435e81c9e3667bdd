/**
 * Golden gob bytes for geerpc's first call and reply, derived by hand from the encoding/gob
 * specification and Go's encoder (golden-bytes.test.ts explains the notation). Shared by the gob
 * tests and by the geerpc wire tests that replay a Go peer's bytes.
 */
import { gob } from '../../../src/protocol/gob/index.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** geerpc's codec.Header {ServiceMethod string; Seq uint64; Error string} and the seed's Args. */
export const Header = gob.struct('Header', { ServiceMethod: gob.string, Seq: gob.uint, Error: gob.string });
export const Args = gob.struct('Args', { Num1: gob.int, Num2: gob.int });

// The definition of Header as id 65: wireType{StructT: &structType{CommonType{"Header", 65},
// Field: [{"ServiceMethod", 6}, {"Seq", 3}, {"Error", 6}]}}.
export const headerDef = hex(`
  38            ${/* 56 bytes follow */ ''}
  ff 81         ${/* -65: a definition of type id 65 */ ''}
  03            ${/* wireType field delta +3 → field 2, StructT (ArrayT, SliceT are nil, omitted) */ ''}
  01            ${/* structType field 0: the embedded CommonType */ ''}
  01 06 ${ascii('Header')} ${/* CommonType.Name, a string: length 6 then the bytes */ ''}
  01 ff 82      ${/* CommonType.Id = 65 */ ''}
  00            ${/* end of CommonType */ ''}
  01 03         ${/* structType field 1, Field: a slice of 3 fieldType */ ''}
  01 0d ${ascii('ServiceMethod')} 01 0c 00 ${/* {Name: "ServiceMethod", Id: 6 (string) → int 12} */ ''}
  01 03 ${ascii('Seq')} 01 06 00 ${/* {Name: "Seq", Id: 3 (uint) → int 6} */ ''}
  01 05 ${ascii('Error')} 01 0c 00 ${/* {Name: "Error", Id: 6} */ ''}
  00            ${/* end of structType */ ''}
  00            ${/* end of wireType */ ''}
`);

// Header{ServiceMethod: "Foo.Sum", Seq: 1}: Error is "" and so omitted.
export const header1 = hex(`
  0e ff 82      ${/* 14 bytes, a value of type 65 (a struct: no singleton delta) */ ''}
  01 07 ${ascii('Foo.Sum')} ${/* field 0 ServiceMethod */ ''}
  01 01         ${/* field 1 Seq = uint 1 */ ''}
  00            ${/* end of struct; field 2 (Error "") is not sent */ ''}
`);

// Args gets the next id, 66 (definition -66 = int 131 = ff 83; id 66 = int 132 = ff 84).
export const argsDef = hex(`
  24 ff 83 03 01
  01 04 ${ascii('Args')} 01 ff 84 00   ${/* CommonType{"Args", 66} */ ''}
  01 02                                ${/* two fields */ ''}
  01 04 ${ascii('Num1')} 01 04 00      ${/* {Name: "Num1", Id: 2 (int) → int 4} */ ''}
  01 04 ${ascii('Num2')} 01 04 00
  00 00
`);
// Args{Num1: 1, Num2: 2}: ints 1 and 2 are sent as 2 and 4.
export const args12 = hex('07 ff 84 01 02 01 04 00');

/** A Go server's reply to that call: Header{"Foo.Sum", 1, ""} again (its own stream, so its own
 *  definition of Header as 65) and the int 3 as a singleton: id int (2 → 04), delta 0, 3 → 06. */
export const reply3 = hex('03 04 00 06');
