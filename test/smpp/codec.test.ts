// The SMPP codec against the spec's byte layouts (vectors worked out by hand from SMPP 3.4
// and 5.0), against itself (every PDU type round-trips), and against an independent
// implementation: the npm `smpp` package (node-smpp) reads what we write and we read what
// it writes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { decodePdu, encodePdu, PduWriter, SmppDecodeError, SmppEncodeError } from '../../src/smpp/codec.ts';
import type { CommandName } from '../../src/smpp/constants.ts';
import {
  CommandId,
  CommandStatus,
  commandNameOf,
  isResponseId,
  responseOf,
  statusDescription,
  statusName,
  TlvTag,
} from '../../src/smpp/constants.ts';
import type { Pdu, PduOf, Tlvs } from '../../src/smpp/pdu.ts';
import { tlvSpecs } from '../../src/smpp/tlv.ts';

const S = CommandStatus;

/** Hex with spaces and `|` separators for readability; `'text'` parts are ASCII. */
function hex(...parts: string[]): Buffer {
  return Buffer.concat(
    parts.map((p) =>
      p.startsWith("'") ? Buffer.from(p.slice(1, -1), 'latin1') : Buffer.from(p.replace(/[\s|]/g, ''), 'hex'),
    ),
  );
}

const smSource = { serviceType: '', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: '447700900000' };
const smBody = {
  esmClass: 0,
  protocolId: 0,
  priorityFlag: 0,
  scheduleDeliveryTime: '',
  validityPeriod: '',
  registeredDelivery: 1,
  replaceIfPresentFlag: 0,
  dataCoding: 0,
  smDefaultMsgId: 0,
  shortMessage: Buffer.from('hello world'),
};
const sm = { ...smSource, destAddrTon: 1, destAddrNpi: 1, destinationAddr: '447700900001', ...smBody };
const header = { commandStatus: 0, sequenceNumber: 42 };
const bind = {
  ...header,
  systemId: 'esme',
  password: 'secret',
  systemType: 'VMA',
  interfaceVersion: 0x34,
  addrTon: 1,
  addrNpi: 1,
  addressRange: '^4477',
};

/** One PDU of every command, each with the fields it has set to something non-default. */
const samples: { [C in CommandName]: PduOf<C> } = {
  generic_nack: { command: 'generic_nack', commandStatus: S.ESME_RINVCMDID, sequenceNumber: 9 },
  bind_receiver: { command: 'bind_receiver', ...bind },
  bind_receiver_resp: {
    command: 'bind_receiver_resp',
    ...header,
    systemId: 'SMSC',
    tlvs: { scInterfaceVersion: 0x34 },
  },
  bind_transmitter: { command: 'bind_transmitter', ...bind },
  bind_transmitter_resp: { command: 'bind_transmitter_resp', ...header, systemId: 'SMSC' },
  bind_transceiver: { command: 'bind_transceiver', ...bind, interfaceVersion: 0x50 },
  bind_transceiver_resp: {
    command: 'bind_transceiver_resp',
    ...header,
    systemId: 'SMSC',
    tlvs: { scInterfaceVersion: 0x50 },
  },
  query_sm: {
    command: 'query_sm',
    ...header,
    messageId: '1a2b3c',
    sourceAddrTon: 5,
    sourceAddrNpi: 0,
    sourceAddr: 'Info',
  },
  query_sm_resp: {
    command: 'query_sm_resp',
    ...header,
    messageId: '1a2b3c',
    finalDate: '240315123045000+',
    messageState: 2,
    errorCode: 0,
  },
  submit_sm: {
    command: 'submit_sm',
    ...header,
    ...sm,
    validityPeriod: '000001000000000R',
    tlvs: { userMessageReference: 7, sourcePort: 9200, destinationPort: 9201 },
  },
  submit_sm_resp: { command: 'submit_sm_resp', ...header, messageId: '5f3a9c2e11' },
  deliver_sm: {
    command: 'deliver_sm',
    ...header,
    ...sm,
    esmClass: 0x04,
    shortMessage: Buffer.from('id:5f3a9c2e11 sub:001 dlvrd:001 stat:DELIVRD err:000 text:hello'),
    tlvs: { receiptedMessageId: '5f3a9c2e11', messageState: 2, networkErrorCode: Buffer.from([3, 0, 0]) },
  },
  deliver_sm_resp: { command: 'deliver_sm_resp', ...header, messageId: '' },
  unbind: { command: 'unbind', ...header },
  unbind_resp: { command: 'unbind_resp', ...header },
  replace_sm: {
    command: 'replace_sm',
    ...header,
    messageId: '1a2b3c',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900000',
    scheduleDeliveryTime: '240315123045004-',
    validityPeriod: '',
    registeredDelivery: 1,
    smDefaultMsgId: 0,
    shortMessage: Buffer.from('replaced'),
  },
  replace_sm_resp: { command: 'replace_sm_resp', ...header },
  cancel_sm: {
    command: 'cancel_sm',
    ...header,
    serviceType: 'CMT',
    messageId: '1a2b3c',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900000',
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: '447700900001',
  },
  cancel_sm_resp: { command: 'cancel_sm_resp', ...header },
  outbind: { command: 'outbind', ...header, systemId: 'SMSC', password: 'pw' },
  enquire_link: { command: 'enquire_link', ...header },
  enquire_link_resp: { command: 'enquire_link_resp', ...header },
  submit_multi: {
    command: 'submit_multi',
    ...header,
    ...smSource,
    ...smBody,
    destinations: [
      { kind: 'sme', ton: 1, npi: 1, address: '447700900001' },
      { kind: 'list', name: 'friends' },
      { kind: 'sme', ton: 2, npi: 8, address: '07700900002' },
    ],
  },
  submit_multi_resp: {
    command: 'submit_multi_resp',
    ...header,
    messageId: '77',
    unsuccess: [{ ton: 2, npi: 8, address: '07700900002', errorStatus: S.ESME_RINVDSTADR }],
  },
  alert_notification: {
    command: 'alert_notification',
    ...header,
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900001',
    esmeAddrTon: 0,
    esmeAddrNpi: 0,
    esmeAddr: 'esme.example.com:2775',
    tlvs: { msAvailabilityStatus: 0 },
  },
  data_sm: {
    command: 'data_sm',
    ...header,
    serviceType: 'WAP',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900000',
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: '447700900001',
    esmClass: 0,
    registeredDelivery: 0,
    dataCoding: 4,
    tlvs: { messagePayload: Buffer.alloc(1000, 0xab), sourcePort: 9200, destinationPort: 2948 },
  },
  data_sm_resp: { command: 'data_sm_resp', ...header, messageId: 'abc' },
  broadcast_sm: {
    command: 'broadcast_sm',
    ...header,
    serviceType: '',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '1234',
    messageId: '',
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '000002000000000R',
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    tlvs: {
      broadcastAreaIdentifier: [hex('00', "'AREA1'"), hex('00', "'AREA2'")],
      broadcastContentType: hex('00 0001'),
      broadcastRepNum: 1,
      broadcastFrequencyInterval: hex('09 0005'),
      messagePayload: Buffer.from('Flood warning'),
    },
  },
  broadcast_sm_resp: {
    command: 'broadcast_sm_resp',
    ...header,
    messageId: 'b1',
  },
  query_broadcast_sm: {
    command: 'query_broadcast_sm',
    ...header,
    messageId: 'b1',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '1234',
    tlvs: { userMessageReference: 3 },
  },
  query_broadcast_sm_resp: {
    command: 'query_broadcast_sm_resp',
    ...header,
    messageId: 'b1',
    tlvs: {
      messageState: 1,
      broadcastAreaIdentifier: [hex('00', "'AREA1'"), hex('00', "'AREA2'")],
      broadcastAreaSuccess: [100, 40],
      broadcastEndTime: '240316000000000+',
    },
  },
  cancel_broadcast_sm: {
    command: 'cancel_broadcast_sm',
    ...header,
    serviceType: '',
    messageId: 'b1',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '1234',
  },
  cancel_broadcast_sm_resp: { command: 'cancel_broadcast_sm_resp', ...header },
};

function expectEncodeError(pdu: Pdu, field: string, status: number): void {
  assert.throws(
    () => encodePdu(pdu),
    (err: unknown) => {
      assert.ok(err instanceof SmppEncodeError, `expected SmppEncodeError, got ${err}`);
      assert.equal(err.field, field);
      assert.equal(err.status, status, `status of ${field}: ${err.message}`);
      return true;
    },
  );
}

function expectDecodeError(bytes: Buffer, status: number): SmppDecodeError {
  try {
    decodePdu(bytes);
  } catch (err) {
    assert.ok(err instanceof SmppDecodeError, `expected SmppDecodeError, got ${err}`);
    assert.equal(err.status, status, err.message);
    return err;
  }
  assert.fail('decoded without error');
}

/** `bytes` with command_length set to its length. */
function withLength(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(copy.length, 0);
  return copy;
}

describe('constants', () => {
  test('command ids, names and responses', () => {
    assert.equal(commandNameOf(0x80000004), 'submit_sm_resp');
    assert.equal(commandNameOf(0x00000099), undefined);
    assert.equal(responseOf('submit_sm'), 'submit_sm_resp');
    assert.equal(responseOf('bind_transceiver'), 'bind_transceiver_resp');
    assert.equal(responseOf('cancel_broadcast_sm'), 'cancel_broadcast_sm_resp');
    for (const name of ['generic_nack', 'outbind', 'alert_notification', 'submit_sm_resp'] as const) {
      assert.equal(responseOf(name), undefined, name);
    }
    for (const [name, id] of Object.entries(CommandId)) {
      assert.equal(isResponseId(id), name.endsWith('_resp') || name === 'generic_nack', name);
      const response = responseOf(name as CommandName);
      if (response !== undefined) assert.equal(CommandId[response], (id | 0x80000000) >>> 0);
    }
  });

  test('status names and descriptions', () => {
    assert.equal(statusName(0x58), 'ESME_RTHROTTLED');
    assert.equal(statusName(0xc0), 'ESME_RINVOPTPARSTREAM');
    assert.equal(CommandStatus.ESME_RINVTLVSTREAM, 0xc0);
    assert.equal(statusName(0x458), '0x00000458');
    assert.equal(statusName(0x112), 'ESME_RINVBCASTCHANIND');
    assert.equal(statusDescription(0x14), 'Message queue full');
    assert.equal(statusDescription(0x401), 'SMSC vendor-specific error');
    assert.equal(statusDescription(0x9999), 'Reserved error code');
    for (const code of Object.values(CommandStatus))
      assert.notEqual(statusDescription(code), 'Reserved error code');
  });
});

describe('codec: every PDU type', () => {
  test('every command has a sample', () => {
    assert.deepEqual(Object.keys(samples).sort(), Object.keys(CommandId).sort());
  });

  for (const [name, pdu] of Object.entries(samples) as Array<[CommandName, Pdu]>) {
    test(`${name} round-trips`, () => {
      const bytes = encodePdu(pdu);
      assert.equal(bytes.readUInt32BE(0), bytes.length);
      assert.equal(bytes.readUInt32BE(4), CommandId[name]);
      assert.equal(bytes.readUInt32BE(8), pdu.commandStatus);
      assert.equal(bytes.readUInt32BE(12), pdu.sequenceNumber);
      assert.deepEqual(decodePdu(bytes), pdu);
      assert.deepEqual(encodePdu(decodePdu(bytes)), bytes);
    });
  }

  test('every standard TLV round-trips, repeatable ones repeated', () => {
    assert.deepEqual(Object.keys(tlvSpecs).sort(), Object.keys(TlvTag).sort());
    const tlvs: Record<string, unknown> = {};
    for (const spec of Object.values(tlvSpecs)) {
      let value: unknown;
      if (spec.kind === 'int') value = 2 ** (8 * spec.size) - 1;
      else if (spec.kind === 'cstring')
        value = spec.name === 'broadcastEndTime' ? '240316000000000+' : 'x'.repeat(spec.max - 1);
      else if (spec.kind === 'octets') value = Buffer.alloc(Math.max(spec.min, 1), spec.tag & 0xff);
      else value = 3;
      tlvs[spec.name] = spec.repeats ? [value, value] : value;
    }
    const pdu = { ...samples.data_sm, tlvs: tlvs as Tlvs };
    const bytes = encodePdu(pdu);
    assert.deepEqual(decodePdu(bytes), pdu);
    // and each tag is on the wire with its spec's tag number
    for (const spec of Object.values(tlvSpecs))
      assert.ok(bytes.includes(hex(spec.tag.toString(16).padStart(4, '0'))));
  });
});

describe('codec: byte vectors worked out from the spec', () => {
  test('bind_transceiver (3.4 §4.1.5)', () => {
    const pdu: Pdu = {
      command: 'bind_transceiver',
      commandStatus: 0,
      sequenceNumber: 1,
      systemId: 'smsgw',
      password: 'secret',
      systemType: 'VMA',
      interfaceVersion: 0x34,
      addrTon: 1,
      addrNpi: 1,
      addressRange: '',
    };
    const bytes = hex(
      '00000025 00000009 00000000 00000001',
      "'smsgw'",
      '00',
      "'secret'",
      '00',
      "'VMA'",
      '00',
      '34 | 01 | 01 | 00',
    );
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
  });

  test('submit_sm with a relative validity, UCS-2 text and SAR TLVs (3.4 §4.4.1, §5.3.2.22–24)', () => {
    const pdu: Pdu = {
      command: 'submit_sm',
      commandStatus: 0,
      sequenceNumber: 2,
      serviceType: '',
      sourceAddrTon: 5,
      sourceAddrNpi: 0,
      sourceAddr: 'Info',
      destAddrTon: 1,
      destAddrNpi: 1,
      destinationAddr: '447911123456',
      esmClass: 0,
      protocolId: 0,
      priorityFlag: 1,
      scheduleDeliveryTime: '',
      validityPeriod: '000001000000000R',
      registeredDelivery: 1,
      replaceIfPresentFlag: 0,
      dataCoding: 8,
      smDefaultMsgId: 0,
      shortMessage: hex('0048 0069'),
      tlvs: { sarMsgRefNum: 0x1234, sarTotalSegments: 2, sarSegmentSeqnum: 1 },
    };
    const bytes = hex(
      '00000055 00000004 00000000 00000002',
      '00', // service_type
      '05 00',
      "'Info'",
      '00',
      '01 01',
      "'447911123456'",
      '00',
      '00 | 00 | 01', // esm_class, protocol_id, priority_flag
      '00', // schedule_delivery_time
      "'000001000000000R'",
      '00',
      '01 | 00 | 08 | 00', // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
      '04 | 0048 0069', // sm_length, short_message
      '020c 0002 1234 | 020e 0001 02 | 020f 0001 01',
    );
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
  });

  test('deliver_sm carrying a delivery receipt (3.4 §4.6.1, Appendix B)', () => {
    const text =
      'id:1a2b sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:000 text:Hi';
    assert.equal(text.length, 0x62);
    const pdu: Pdu = {
      command: 'deliver_sm',
      commandStatus: 0,
      sequenceNumber: 3,
      serviceType: '',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447911123456',
      destAddrTon: 5,
      destAddrNpi: 0,
      destinationAddr: 'Info',
      esmClass: 0x04,
      protocolId: 0,
      priorityFlag: 0,
      scheduleDeliveryTime: '',
      validityPeriod: '',
      registeredDelivery: 0,
      replaceIfPresentFlag: 0,
      dataCoding: 0,
      smDefaultMsgId: 0,
      shortMessage: Buffer.from(text),
      tlvs: { receiptedMessageId: '1a2b', messageState: 2 },
    };
    const bytes = hex(
      '000000a1 00000005 00000000 00000003',
      '00',
      '01 01',
      "'447911123456'",
      '00',
      '05 00',
      "'Info'",
      '00',
      '04 | 00 | 00 | 00 | 00 | 00 | 00 | 00 | 00',
      '62',
      `'${text}'`,
      '001e 0005',
      "'1a2b'",
      '00',
      '0427 0001 02',
    );
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
  });

  test('submit_multi to an SME and a distribution list (3.4 §4.5.1)', () => {
    const pdu: Pdu = {
      command: 'submit_multi',
      commandStatus: 0,
      sequenceNumber: 4,
      serviceType: 'CMT',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '12345',
      destinations: [
        { kind: 'sme', ton: 1, npi: 1, address: '4479001' },
        { kind: 'list', name: 'friends' },
      ],
      esmClass: 0,
      protocolId: 0,
      priorityFlag: 0,
      scheduleDeliveryTime: '',
      validityPeriod: '',
      registeredDelivery: 0,
      replaceIfPresentFlag: 0,
      dataCoding: 0,
      smDefaultMsgId: 0,
      shortMessage: Buffer.from('Hi'),
    };
    const bytes = hex(
      '0000003d 00000021 00000000 00000004',
      "'CMT'",
      '00',
      '01 01',
      "'12345'",
      '00',
      '02', // number_of_dests
      '01 | 01 01', // dest_flag SME, ton, npi
      "'4479001'",
      '00',
      '02', // dest_flag distribution list
      "'friends'",
      '00',
      '00 00 00 | 00 | 00 | 00 00 00 00',
      '02',
      "'Hi'",
    );
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
  });

  test('generic_nack (3.4 §4.3)', () => {
    const pdu: Pdu = {
      command: 'generic_nack',
      commandStatus: S.ESME_RINVCMDID,
      sequenceNumber: 0x12345678,
    };
    const bytes = hex('00000010 80000000 00000003 12345678');
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
  });

  test('broadcast_sm with its mandatory TLVs (5.0 §4.4.1)', () => {
    const pdu: Pdu = {
      command: 'broadcast_sm',
      commandStatus: 0,
      sequenceNumber: 5,
      serviceType: '',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '1234',
      messageId: '',
      priorityFlag: 0,
      scheduleDeliveryTime: '',
      validityPeriod: '',
      replaceIfPresentFlag: 0,
      dataCoding: 0,
      smDefaultMsgId: 0,
      tlvs: {
        broadcastAreaIdentifier: [hex('00', "'AREA1'")],
        broadcastContentType: hex('00 0001'),
        broadcastRepNum: 1,
        broadcastFrequencyInterval: hex('09 0005'),
        messagePayload: Buffer.from('Alert'),
      },
    };
    const bytes = hex(
      '00000046 00000111 00000000 00000005',
      '00', // service_type
      '01 01',
      "'1234'",
      '00',
      '00', // message_id
      '00 | 00 | 00', // priority_flag, schedule_delivery_time, validity_period
      '00 | 00 | 00', // replace_if_present_flag, data_coding, sm_default_msg_id
      '0606 0006 00',
      "'AREA1'",
      '0601 0003 00 0001',
      '0604 0002 0001',
      '0605 0003 09 0005',
      '0424 0005',
      "'Alert'",
    );
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
  });

  test('an error submit_sm_resp has no body (3.4 §4.4.2), and a bodyless one decodes', () => {
    const pdu: Pdu = {
      command: 'submit_sm_resp',
      commandStatus: S.ESME_RTHROTTLED,
      sequenceNumber: 7,
      messageId: '',
    };
    const bytes = hex('00000010 80000004 00000058 00000007');
    assert.deepEqual(encodePdu(pdu), bytes);
    assert.deepEqual(decodePdu(bytes), pdu);
    // the 5.0 form, with an empty message_id, decodes the same
    assert.deepEqual(decodePdu(hex('00000011 80000004 00000058 00000007 00')), pdu);
  });

  test('error responses drop their body unless they carry TLVs or unsuccess entries', () => {
    for (const command of [
      'submit_sm_resp',
      'deliver_sm_resp',
      'data_sm_resp',
      'broadcast_sm_resp',
    ] as const) {
      const bytes = encodePdu({
        command,
        commandStatus: S.ESME_RSYSERR,
        sequenceNumber: 1,
        messageId: 'ignored',
      });
      assert.equal(bytes.length, 16, command);
      assert.deepEqual(decodePdu(bytes), {
        command,
        commandStatus: S.ESME_RSYSERR,
        sequenceNumber: 1,
        messageId: '',
      });
    }
    const queryResp: Pdu = {
      command: 'query_sm_resp',
      commandStatus: S.ESME_RQUERYFAIL,
      sequenceNumber: 1,
      messageId: '',
      finalDate: '',
      messageState: 0,
      errorCode: 0,
    };
    assert.equal(encodePdu(queryResp).length, 16);
    assert.deepEqual(decodePdu(encodePdu(queryResp)), queryResp);
    const multiResp: Pdu = {
      command: 'submit_multi_resp',
      commandStatus: S.ESME_RSUBMITFAIL,
      sequenceNumber: 1,
      messageId: '',
      unsuccess: [],
    };
    assert.equal(encodePdu(multiResp).length, 16);
    assert.deepEqual(decodePdu(encodePdu(multiResp)), multiResp);

    // data_sm_resp with ESME_RDELIVERYFAILURE and why (3.4 §4.7.2): body and TLVs are written
    const failed: Pdu = {
      command: 'data_sm_resp',
      commandStatus: S.ESME_RDELIVERYFAILURE,
      sequenceNumber: 2,
      messageId: '',
      tlvs: { deliveryFailureReason: 2, additionalStatusInfoText: 'absent subscriber' },
    };
    assert.deepEqual(decodePdu(encodePdu(failed)), failed);
    const partial: Pdu = {
      ...multiResp,
      unsuccess: [{ ton: 1, npi: 1, address: '4479', errorStatus: S.ESME_RINVDSTADR }],
    };
    assert.deepEqual(decodePdu(encodePdu(partial)), partial);
  });

  test('an error bind response keeps its system_id', () => {
    const pdu: Pdu = {
      command: 'bind_transceiver_resp',
      commandStatus: S.ESME_RINVPASWD,
      sequenceNumber: 1,
      systemId: 'SMSC',
    };
    assert.deepEqual(encodePdu(pdu), hex('00000015 80000009 0000000e 00000001', "'SMSC'", '00'));
    // and one without a body (3.4 §4.1.2) decodes
    assert.deepEqual(decodePdu(hex('00000010 80000009 0000000e 00000001')), { ...pdu, systemId: '' });
  });
});

describe('codec: TLVs', () => {
  test('unknown and vendor TLVs round-trip byte for byte', () => {
    const bytes = withLength(
      Buffer.concat([
        encodePdu({ ...samples.submit_sm, tlvs: { sarMsgRefNum: 1 } }),
        hex('1400 0003 010203'), // vendor-specific range
        hex('3fff 0000'), // empty vendor TLV
        hex('0100 0002 abcd'), // reserved standard-range tag
        hex('1401 0001 ff'),
      ]),
    );
    const pdu = decodePdu(bytes);
    assert.deepEqual(pdu.tlvs, {
      sarMsgRefNum: 1,
      vendor: [
        { tag: 0x1400, value: hex('010203') },
        { tag: 0x3fff, value: hex('') },
        { tag: 0x0100, value: hex('abcd') },
        { tag: 0x1401, value: hex('ff') },
      ],
    });
    assert.deepEqual(encodePdu(pdu), bytes);
  });

  test('known tags with a length their type cannot have, and repeats, are kept raw', () => {
    const bytes = withLength(
      Buffer.concat([
        encodePdu(samples.enquire_link),
        hex('0427 0000'), // message_state of no octets
        hex('0423 0002 0300'), // network_error_code of 2 octets (3 in the spec)
        hex('0427 0001 02'), // message_state
        hex('0427 0001 05'), // message_state again: may not repeat
      ]),
    );
    const pdu = decodePdu(bytes);
    assert.deepEqual(pdu.tlvs, {
      messageState: 2,
      vendor: [
        { tag: 0x0427, value: hex('') },
        { tag: 0x0423, value: hex('0300') },
        { tag: 0x0427, value: hex('05') },
      ],
    });
  });

  test('integer TLVs are read at any width 1–6, C-strings without their NUL, 3.4 alert_on_message_delivery', () => {
    const bytes = withLength(
      Buffer.concat([
        encodePdu(samples.enquire_link),
        hex('0010 0001 07'), // source_telematics_id in one octet, as 3.4 printed it
        hex('001e 0004', "'ab12'"), // receipted_message_id with no NUL, as some SMSCs send it
        hex('130c 0000'), // alert_on_message_delivery, 3.4: no value
        hex('0613 0005 0000000031'), // dest_addr_np_country: 5-octet integer
      ]),
    );
    assert.deepEqual(decodePdu(bytes).tlvs, {
      sourceTelematicsId: 7,
      receiptedMessageId: 'ab12',
      alertOnMessageDelivery: true,
      destAddrNpCountry: 0x31,
    });
    const alert = encodePdu({ ...samples.enquire_link, tlvs: { alertOnMessageDelivery: true } });
    assert.deepEqual(alert.subarray(16), hex('130c 0000'));
  });

  test('repeatable TLVs decode into arrays in arrival order', () => {
    const bytes = withLength(
      Buffer.concat([
        encodePdu(samples.broadcast_sm_resp),
        hex('0607 0004 0000010d | 0606 0002 0041'),
        hex('0607 0004 00000109 | 0606 0002 0042'),
      ]),
    );
    assert.deepEqual(decodePdu(bytes).tlvs, {
      broadcastErrorStatus: [0x10d, 0x109],
      broadcastAreaIdentifier: [hex('0041'), hex('0042')],
    });
  });
});

describe('codec: strict writing', () => {
  const submit = samples.submit_sm;
  const cases: Array<[string, Pdu, string, number]> = [
    [
      'system_id of 16',
      { ...samples.bind_transceiver, systemId: 'x'.repeat(16) },
      'system_id',
      S.ESME_RINVSYSID,
    ],
    ['password of 9', { ...samples.bind_transceiver, password: 'x'.repeat(9) }, 'password', S.ESME_RINVPASWD],
    [
      'system_type of 13',
      { ...samples.bind_transceiver, systemType: 'x'.repeat(13) },
      'system_type',
      S.ESME_RINVSYSTYP,
    ],
    [
      'address_range of 41',
      { ...samples.bind_transceiver, addressRange: 'x'.repeat(41) },
      'address_range',
      S.ESME_RINVPARLEN,
    ],
    [
      'interface_version 256',
      { ...samples.bind_transceiver, interfaceVersion: 256 },
      'interface_version',
      S.ESME_RINVPARLEN,
    ],
    [
      'bind_resp system_id of 16',
      { ...samples.bind_receiver_resp, systemId: 'x'.repeat(16) },
      'system_id',
      S.ESME_RINVSYSID,
    ],
    ['outbind password of 9', { ...samples.outbind, password: 'x'.repeat(9) }, 'password', S.ESME_RINVPASWD],
    ['service_type of 6', { ...submit, serviceType: 'x'.repeat(6) }, 'service_type', S.ESME_RINVSERTYP],
    ['source_addr of 21', { ...submit, sourceAddr: '1'.repeat(21) }, 'source_addr', S.ESME_RINVSRCADR],
    [
      'source_addr not one octet a character',
      { ...submit, sourceAddr: '€uro' },
      'source_addr',
      S.ESME_RINVSRCADR,
    ],
    ['source_addr with a NUL', { ...submit, sourceAddr: 'a\0b' }, 'source_addr', S.ESME_RINVSRCADR],
    ['source_addr_ton 256', { ...submit, sourceAddrTon: 256 }, 'source_addr_ton', S.ESME_RINVSRCTON],
    ['source_addr_npi -1', { ...submit, sourceAddrNpi: -1 }, 'source_addr_npi', S.ESME_RINVSRCNPI],
    [
      'destination_addr of 21',
      { ...submit, destinationAddr: '1'.repeat(21) },
      'destination_addr',
      S.ESME_RINVDSTADR,
    ],
    ['dest_addr_ton 1.5', { ...submit, destAddrTon: 1.5 }, 'dest_addr_ton', S.ESME_RINVDSTTON],
    ['dest_addr_npi NaN', { ...submit, destAddrNpi: Number.NaN }, 'dest_addr_npi', S.ESME_RINVDSTNPI],
    ['esm_class 256', { ...submit, esmClass: 256 }, 'esm_class', S.ESME_RINVESMCLASS],
    ['protocol_id 300', { ...submit, protocolId: 300 }, 'protocol_id', S.ESME_RINVPARLEN],
    ['priority_flag 256', { ...submit, priorityFlag: 256 }, 'priority_flag', S.ESME_RINVPRTFLG],
    [
      'schedule_delivery_time of 10',
      { ...submit, scheduleDeliveryTime: '2403151230' },
      'schedule_delivery_time',
      S.ESME_RINVSCHED,
    ],
    [
      'validity_period not a time',
      { ...submit, validityPeriod: '24031512304500X+' },
      'validity_period',
      S.ESME_RINVEXPIRY,
    ],
    [
      'validity_period bad sign',
      { ...submit, validityPeriod: '240315123045000*' },
      'validity_period',
      S.ESME_RINVEXPIRY,
    ],
    [
      'registered_delivery 256',
      { ...submit, registeredDelivery: 256 },
      'registered_delivery',
      S.ESME_RINVREGDLVFLG,
    ],
    [
      'replace_if_present 256',
      { ...submit, replaceIfPresentFlag: 256 },
      'replace_if_present_flag',
      S.ESME_RINVREPFLAG,
    ],
    ['data_coding 256', { ...submit, dataCoding: 256 }, 'data_coding', S.ESME_RINVDCS],
    ['sm_default_msg_id 256', { ...submit, smDefaultMsgId: 256 }, 'sm_default_msg_id', S.ESME_RINVDFTMSGID],
    [
      'short_message of 255',
      { ...submit, shortMessage: Buffer.alloc(255) },
      'short_message',
      S.ESME_RINVMSGLEN,
    ],
    [
      'replace_sm short_message of 255',
      { ...samples.replace_sm, shortMessage: Buffer.alloc(255) },
      'short_message',
      S.ESME_RINVMSGLEN,
    ],
    [
      'data_sm source_addr of 65',
      { ...samples.data_sm, sourceAddr: '1'.repeat(65) },
      'source_addr',
      S.ESME_RINVSRCADR,
    ],
    [
      'data_sm destination_addr of 65',
      { ...samples.data_sm, destinationAddr: '1'.repeat(65) },
      'destination_addr',
      S.ESME_RINVDSTADR,
    ],
    [
      'esme_addr of 65',
      { ...samples.alert_notification, esmeAddr: 'x'.repeat(65) },
      'esme_addr',
      S.ESME_RINVDSTADR,
    ],
    [
      'message_id of 65',
      { ...samples.submit_sm_resp, messageId: 'x'.repeat(65) },
      'message_id',
      S.ESME_RINVMSGID,
    ],
    [
      'query_sm message_id of 65',
      { ...samples.query_sm, messageId: 'x'.repeat(65) },
      'message_id',
      S.ESME_RINVMSGID,
    ],
    [
      'cancel_sm source_addr of 21',
      { ...samples.cancel_sm, sourceAddr: '1'.repeat(21) },
      'source_addr',
      S.ESME_RINVSRCADR,
    ],
    [
      'broadcast_sm message_id of 65',
      { ...samples.broadcast_sm, messageId: 'x'.repeat(65) },
      'message_id',
      S.ESME_RINVMSGID,
    ],
    [
      'final_date of 15',
      { ...samples.query_sm_resp, finalDate: '24031512304500+' },
      'final_date',
      S.ESME_RINVPARLEN,
    ],
    [
      'no destinations',
      { ...samples.submit_multi, destinations: [] },
      'number_of_dests',
      S.ESME_RINVNUMDESTS,
    ],
    [
      '255 destinations',
      { ...samples.submit_multi, destinations: Array(255).fill({ kind: 'list', name: 'a' }) },
      'number_of_dests',
      S.ESME_RINVNUMDESTS,
    ],
    [
      'dl_name of 21',
      { ...samples.submit_multi, destinations: [{ kind: 'list', name: 'x'.repeat(21) }] },
      'dl_name',
      S.ESME_RINVDLNAME,
    ],
    [
      'destination of no kind',
      { ...samples.submit_multi, destinations: [{ kind: 'other' } as never] },
      'dest_flag',
      S.ESME_RINVDESTFLAG,
    ],
    [
      'unsuccess address of 21',
      {
        ...samples.submit_multi_resp,
        unsuccess: [{ ton: 1, npi: 1, address: '1'.repeat(21), errorStatus: 1 }],
      },
      'destination_addr',
      S.ESME_RINVDSTADR,
    ],
    [
      'sequence_number -1',
      { ...samples.enquire_link, sequenceNumber: -1 },
      'sequence_number',
      S.ESME_RSYSERR,
    ],
    [
      'command_status 2^32',
      { ...samples.generic_nack, commandStatus: 2 ** 32 },
      'command_status',
      S.ESME_RSYSERR,
    ],
    [
      'unknown command',
      { ...samples.enquire_link, command: 'query_last_msgs' } as never,
      'command',
      S.ESME_RINVCMDID,
    ],
    [
      'a u16 TLV of 65536',
      { ...submit, tlvs: { sarMsgRefNum: 65536 } },
      'sarMsgRefNum',
      S.ESME_RINVOPTPARAMVAL,
    ],
    ['a u8 TLV of -1', { ...submit, tlvs: { messageState: -1 } }, 'messageState', S.ESME_RINVOPTPARAMVAL],
    [
      'network_error_code of 2',
      { ...submit, tlvs: { networkErrorCode: Buffer.alloc(2) } },
      'networkErrorCode',
      S.ESME_RINVPARLEN,
    ],
    [
      'message_payload of 65536',
      { ...submit, tlvs: { messagePayload: Buffer.alloc(65536) } },
      'messagePayload',
      S.ESME_RINVPARLEN,
    ],
    [
      'receipted_message_id of 65',
      { ...submit, tlvs: { receiptedMessageId: 'x'.repeat(65) } },
      'receiptedMessageId',
      S.ESME_RINVPARLEN,
    ],
    [
      'callback_num of 3',
      { ...submit, tlvs: { callbackNum: [Buffer.alloc(3)] } },
      'callbackNum',
      S.ESME_RINVPARLEN,
    ],
    [
      'a repeatable TLV not in an array',
      { ...submit, tlvs: { callbackNum: Buffer.alloc(4) as never } },
      'callbackNum',
      S.ESME_RINVOPTPARAMVAL,
    ],
    [
      'broadcast_end_time not a time',
      { ...submit, tlvs: { broadcastEndTime: 'tomorrow' } },
      'broadcastEndTime',
      S.ESME_RINVOPTPARAMVAL,
    ],
    [
      'a TLV name that is not one',
      { ...submit, tlvs: { colour: 1 } as never },
      'colour',
      S.ESME_RINVOPTPARSTREAM,
    ],
    [
      'a vendor TLV of 65536',
      { ...submit, tlvs: { vendor: [{ tag: 0x1400, value: Buffer.alloc(65536) }] } },
      'vendor',
      S.ESME_RINVPARLEN,
    ],
    [
      'a vendor tag of 65536',
      { ...submit, tlvs: { vendor: [{ tag: 0x10000, value: Buffer.alloc(1) }] } },
      'vendor',
      S.ESME_RINVOPTPARSTREAM,
    ],
  ];
  for (const [what, pdu, field, status] of cases) {
    test(`${what} → ${field}, status 0x${status.toString(16)}`, () => expectEncodeError(pdu, field, status));
  }

  test('the longest values the spec allows are written', () => {
    const longest: Pdu[] = [
      {
        ...samples.bind_transceiver,
        systemId: 'x'.repeat(15),
        password: 'x'.repeat(8),
        systemType: 'x'.repeat(12),
        addressRange: 'x'.repeat(40),
      },
      {
        ...submit,
        serviceType: 'x'.repeat(5),
        sourceAddr: '1'.repeat(20),
        destinationAddr: '1'.repeat(20),
        shortMessage: Buffer.alloc(254, 1),
      },
      {
        ...samples.data_sm,
        sourceAddr: '1'.repeat(64),
        destinationAddr: '1'.repeat(64),
        tlvs: { messagePayload: Buffer.alloc(65535) },
      },
      { ...samples.submit_sm_resp, messageId: 'x'.repeat(64) },
      {
        ...samples.submit_multi,
        destinations: Array(254).fill({ kind: 'sme', ton: 1, npi: 1, address: '1'.repeat(20) }),
      },
      { ...submit, sourceAddr: 'é' }, // latin1 is one octet a character
    ];
    for (const pdu of longest) assert.deepEqual(decodePdu(encodePdu(pdu)), pdu);
  });

  test('a PDU that fails to encode leaves the writer as it was', () => {
    const writer = new PduWriter();
    writer.write(samples.enquire_link);
    assert.throws(() => writer.write({ ...submit, sourceAddr: '1'.repeat(30) }), SmppEncodeError);
    assert.throws(() =>
      writer.write({ ...samples.data_sm, tlvs: { messagePayload: Buffer.alloc(40_000), sarMsgRefNum: -1 } }),
    );
    writer.write(samples.unbind);
    assert.deepEqual(
      writer.take(),
      Buffer.concat([encodePdu(samples.enquire_link), encodePdu(samples.unbind)]),
    );
  });
});

describe('codec: tolerant but bounded reading', () => {
  const submitBytes = encodePdu({ ...samples.submit_sm, tlvs: undefined });

  test('a body cut anywhere inside its mandatory fields is ESME_RINVCMDLEN (or ESME_RINVMSGLEN in short_message)', () => {
    const smStart = submitBytes.length - samples.submit_sm.shortMessage.length - 1;
    for (let cut = 16; cut < submitBytes.length; cut++) {
      const err = expectDecodeError(
        withLength(submitBytes.subarray(0, cut)),
        cut > smStart ? S.ESME_RINVMSGLEN : S.ESME_RINVCMDLEN,
      );
      assert.equal(err.commandId, CommandId.submit_sm);
      assert.equal(err.sequenceNumber, 42);
    }
  });

  test('every request with a body cut short is refused, every bodyless response is read', () => {
    for (const pdu of Object.values(samples) as Pdu[]) {
      const bodyless = withLength(encodePdu(pdu).subarray(0, 16));
      const id = CommandId[pdu.command];
      const hasBody = encodePdu({ ...pdu, tlvs: undefined } as Pdu).length > 16;
      if (id >= 0x80000000 || !hasBody) assert.equal(decodePdu(bodyless).command, pdu.command);
      else expectDecodeError(bodyless, S.ESME_RINVCMDLEN);
    }
  });

  test('a C-octet string with no NUL before the end', () => {
    expectDecodeError(hex('00000013 00000002 00000000 00000001', "'abc'"), S.ESME_RINVCMDLEN);
    expectDecodeError(hex('00000013 80000004 00000000 00000001', "'abc'"), S.ESME_RINVCMDLEN);
  });

  test('an over-long C-octet string is accepted as long as it ends inside the PDU', () => {
    const long = '1'.repeat(40);
    const bytes = withLength(
      Buffer.concat([
        hex('00000000 00000004 00000000 00000001 00 01 01'),
        Buffer.from(`${long}\0`),
        submitBytes.subarray(16 + 1 + 2 + 13),
      ]),
    );
    const pdu = decodePdu(bytes);
    assert.equal((pdu as PduOf<'submit_sm'>).sourceAddr, long);
    assert.deepEqual((pdu as PduOf<'submit_sm'>).shortMessage, samples.submit_sm.shortMessage);
  });

  test('sm_length beyond the body is ESME_RINVMSGLEN', () => {
    const bytes = Buffer.from(submitBytes);
    bytes[bytes.length - samples.submit_sm.shortMessage.length - 1] = 200;
    expectDecodeError(bytes, S.ESME_RINVMSGLEN);
  });

  test('TLV stream errors are ESME_RINVOPTPARSTREAM', () => {
    expectDecodeError(
      withLength(Buffer.concat([submitBytes, hex('0424 0010 0102')])),
      S.ESME_RINVOPTPARSTREAM,
    );
    for (const stray of ['04', '0424', '042400']) {
      expectDecodeError(withLength(Buffer.concat([submitBytes, hex(stray)])), S.ESME_RINVOPTPARSTREAM);
    }
    expectDecodeError(
      withLength(Buffer.concat([encodePdu(samples.enquire_link), hex('00')])),
      S.ESME_RINVOPTPARSTREAM,
    );
  });

  test('an unknown command_id is ESME_RINVCMDID and keeps id and sequence', () => {
    const err = expectDecodeError(hex('00000010 00000099 00000000 0000abcd'), S.ESME_RINVCMDID);
    assert.equal(err.commandId, 0x99);
    assert.equal(err.sequenceNumber, 0xabcd);
    expectDecodeError(hex('00000010 80000099 00000000 0000abcd'), S.ESME_RINVCMDID);
  });

  test('submit_multi with a dest_flag that is neither 1 nor 2 is ESME_RINVDESTFLAG', () => {
    const bytes = encodePdu(samples.submit_multi);
    const flagAt = bytes.indexOf(hex('01 01 01', "'447700900001'"));
    bytes[flagAt] = 3;
    expectDecodeError(bytes, S.ESME_RINVDESTFLAG);
  });

  test('command_length must be the buffer length', () => {
    expectDecodeError(hex('00000011 00000015 00000000 00000001'), S.ESME_RINVCMDLEN);
    expectDecodeError(hex('00000010 00000015 00000000'), S.ESME_RINVCMDLEN);
  });

  test('decoded octet strings are views of the input, not copies', () => {
    const bytes = encodePdu(samples.submit_sm);
    const pdu = decodePdu(bytes) as PduOf<'submit_sm'>;
    assert.equal(pdu.shortMessage.buffer, bytes.buffer);
  });
});

describe('codec: PduWriter', () => {
  test('appends many PDUs into one buffer, and bytes it handed out are never written over', () => {
    const writer = new PduWriter();
    const pdus = Object.values(samples) as Pdu[];
    for (const pdu of pdus) writer.write(pdu);
    const expected = Buffer.concat(pdus.map((p) => encodePdu(p)));
    assert.equal(writer.length, expected.length);
    const first = writer.take();
    const firstCopy = Buffer.from(first);
    assert.deepEqual(first, expected);
    assert.equal(writer.length, 0);
    for (let i = 0; i < 500; i++) writer.write(samples.submit_sm);
    const second = writer.take();
    assert.deepEqual(first, firstCopy);
    assert.deepEqual(second, Buffer.concat(Array(500).fill(encodePdu(samples.submit_sm))));
  });

  test('grows past its slab for a burst written in one tick', () => {
    const writer = new PduWriter();
    const big = { ...samples.data_sm, tlvs: { messagePayload: Buffer.alloc(60_000, 7) } };
    for (let i = 0; i < 5; i++) writer.write(big);
    const all = writer.take();
    const one = encodePdu(big);
    assert.equal(all.length, one.length * 5);
    for (let i = 0; i < 5; i++) assert.deepEqual(all.subarray(i * one.length, (i + 1) * one.length), one);
  });
});

// node-smpp, the independent implementation; CommonJS without type declarations.
interface NodeSmppPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  toBuffer(): Buffer;
  [field: string]: unknown;
}
const nodeSmpp = createRequire(import.meta.url)('smpp') as {
  PDU: new (commandOrBuffer: string | Buffer, options?: Record<string, unknown>) => NodeSmppPdu;
};

describe('codec: interop with node-smpp (npm smpp)', () => {
  test('node-smpp reads what we write', () => {
    const bind = new nodeSmpp.PDU(encodePdu(samples.bind_transceiver));
    assert.equal(bind.command, 'bind_transceiver');
    assert.equal(bind.sequence_number, 42);
    assert.equal(bind.system_id, 'esme');
    assert.equal(bind.password, 'secret');
    assert.equal(bind.system_type, 'VMA');
    assert.equal(bind.interface_version, 0x50);
    assert.equal(bind.addr_ton, 1);
    assert.equal(bind.addr_npi, 1);
    assert.equal(bind.address_range, '^4477');

    const submit = new nodeSmpp.PDU(encodePdu({ ...samples.submit_sm, validityPeriod: '', dataCoding: 4 }));
    assert.equal(submit.command, 'submit_sm');
    for (const [theirs, ours] of [
      ['service_type', ''],
      ['source_addr_ton', 1],
      ['source_addr_npi', 1],
      ['source_addr', '447700900000'],
      ['dest_addr_ton', 1],
      ['dest_addr_npi', 1],
      ['destination_addr', '447700900001'],
      ['esm_class', 0],
      ['registered_delivery', 1],
      ['data_coding', 4],
      ['user_message_reference', 7],
      ['source_port', 9200],
      ['dest_port', 9201],
    ] as const) {
      assert.equal(submit[theirs], ours, theirs);
    }
    // node-smpp hands short_message back as { message } (a Buffer for binary data_coding)
    assert.deepEqual((submit.short_message as { message: Buffer }).message, Buffer.from('hello world'));

    const receipt = new nodeSmpp.PDU(encodePdu(samples.deliver_sm));
    assert.equal(receipt.esm_class, 4);
    assert.equal(receipt.receipted_message_id, '5f3a9c2e11');
    assert.equal(receipt.message_state, 2);
    assert.deepEqual(receipt.network_error_code, Buffer.from([3, 0, 0]));
    assert.equal(
      (receipt.short_message as { message: string }).message,
      samples.deliver_sm.shortMessage.toString(),
    );

    const multi = new nodeSmpp.PDU(encodePdu(samples.submit_multi));
    assert.deepEqual(multi.dest_address, [
      { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900001' },
      { dl_name: 'friends' },
      { dest_addr_ton: 2, dest_addr_npi: 8, destination_addr: '07700900002' },
    ]);
    const multiResp = new nodeSmpp.PDU(encodePdu(samples.submit_multi_resp));
    assert.equal(multiResp.message_id, '77');
    assert.deepEqual(multiResp.unsuccess_sme, [
      {
        dest_addr_ton: 2,
        dest_addr_npi: 8,
        destination_addr: '07700900002',
        error_status_code: S.ESME_RINVDSTADR,
      },
    ]);

    const broadcast = new nodeSmpp.PDU(encodePdu(samples.broadcast_sm));
    assert.equal(broadcast.command, 'broadcast_sm');
    assert.deepEqual(broadcast.broadcast_area_identifier, [
      { format: 0, data: 'AREA1' },
      { format: 0, data: 'AREA2' },
    ]);
    assert.deepEqual(broadcast.broadcast_content_type, { network: 0, content_type: 1 });
    assert.equal(broadcast.broadcast_rep_num, 1);
    assert.deepEqual(broadcast.broadcast_frequency_interval, { unit: 9, interval: 5 });

    for (const pdu of [
      samples.submit_sm_resp,
      samples.enquire_link,
      samples.unbind_resp,
      samples.generic_nack,
      samples.query_sm,
    ]) {
      const theirs = new nodeSmpp.PDU(encodePdu(pdu));
      assert.equal(theirs.command, pdu.command);
      assert.equal(theirs.command_status, pdu.commandStatus);
      assert.equal(theirs.sequence_number, pdu.sequenceNumber);
    }
  });

  test('we read what node-smpp writes', () => {
    const bind = decodePdu(
      new nodeSmpp.PDU('bind_transmitter', {
        sequence_number: 5,
        system_id: 'esme',
        password: 'secret',
        system_type: 'VMA',
        interface_version: 0x34,
        addr_ton: 2,
        addr_npi: 8,
        address_range: '',
      }).toBuffer(),
    );
    assert.deepEqual(bind, {
      command: 'bind_transmitter',
      commandStatus: 0,
      sequenceNumber: 5,
      systemId: 'esme',
      password: 'secret',
      systemType: 'VMA',
      interfaceVersion: 0x34,
      addrTon: 2,
      addrNpi: 8,
      addressRange: '',
    });

    const deliver = decodePdu(
      new nodeSmpp.PDU('deliver_sm', {
        sequence_number: 6,
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: '447700900001',
        destination_addr: '1234',
        esm_class: 4,
        data_coding: 0,
        short_message: Buffer.from('id:42 stat:DELIVRD'),
        receipted_message_id: '2a',
        message_state: 2,
        network_error_code: Buffer.from([3, 0, 1]),
        sar_msg_ref_num: 0x0102,
      }).toBuffer(),
    );
    assert.deepEqual(deliver, {
      ...sm,
      command: 'deliver_sm',
      commandStatus: 0,
      sequenceNumber: 6,
      sourceAddr: '447700900001',
      destAddrTon: 0,
      destAddrNpi: 0,
      destinationAddr: '1234',
      esmClass: 4,
      registeredDelivery: 0,
      shortMessage: Buffer.from('id:42 stat:DELIVRD'),
      tlvs: {
        receiptedMessageId: '2a',
        messageState: 2,
        networkErrorCode: Buffer.from([3, 0, 1]),
        sarMsgRefNum: 0x0102,
      },
    });

    const multi = decodePdu(
      new nodeSmpp.PDU('submit_multi', {
        sequence_number: 7,
        source_addr: '1234',
        dest_address: [
          { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900001' },
          { dl_name: 'team' },
        ],
        short_message: Buffer.from('hi all'),
      }).toBuffer(),
    ) as PduOf<'submit_multi'>;
    assert.deepEqual(multi.destinations, [
      { kind: 'sme', ton: 1, npi: 1, address: '447700900001' },
      { kind: 'list', name: 'team' },
    ]);
    assert.deepEqual(multi.shortMessage, Buffer.from('hi all'));

    const payload = decodePdu(
      new nodeSmpp.PDU('data_sm', {
        sequence_number: 8,
        source_addr: '1234',
        destination_addr: '447700900001',
        data_coding: 4,
        message_payload: Buffer.alloc(600, 0x55),
      }).toBuffer(),
    ) as PduOf<'data_sm'>;
    assert.deepEqual(payload.tlvs, { messagePayload: Buffer.alloc(600, 0x55) });

    const throttled = decodePdu(
      new nodeSmpp.PDU('submit_sm_resp', {
        sequence_number: 9,
        command_status: S.ESME_RTHROTTLED,
      }).toBuffer(),
    );
    assert.deepEqual(throttled, {
      command: 'submit_sm_resp',
      commandStatus: S.ESME_RTHROTTLED,
      sequenceNumber: 9,
      messageId: '',
    });

    const multiResp = decodePdu(
      new nodeSmpp.PDU('submit_multi_resp', {
        sequence_number: 10,
        message_id: 'm1',
        unsuccess_sme: [
          { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4479', error_status_code: 0x0b },
        ],
      }).toBuffer(),
    );
    assert.deepEqual((multiResp as PduOf<'submit_multi_resp'>).unsuccess, [
      { ton: 1, npi: 1, address: '4479', errorStatus: 0x0b },
    ]);
  });

  test('both write the same bytes for the same PDU', () => {
    const ours = encodePdu({ ...samples.submit_sm, tlvs: { userMessageReference: 7 } });
    const theirs = new nodeSmpp.PDU('submit_sm', {
      sequence_number: 42,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900000',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900001',
      registered_delivery: 1,
      validity_period: '000001000000000R',
      short_message: Buffer.from('hello world'),
      user_message_reference: 7,
    }).toBuffer();
    assert.deepEqual(ours, theirs);
    assert.deepEqual(
      encodePdu(samples.bind_transceiver),
      new nodeSmpp.PDU('bind_transceiver', {
        sequence_number: 42,
        system_id: 'esme',
        password: 'secret',
        system_type: 'VMA',
        interface_version: 0x50,
        addr_ton: 1,
        addr_npi: 1,
        address_range: '^4477',
      }).toBuffer(),
    );
  });
});
