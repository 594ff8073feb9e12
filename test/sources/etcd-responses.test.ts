import { describe, expect, it } from '@jest/globals';
import {
  alarmsFromStatusErrors,
  parseAlarms,
  parseMemberList,
  parseStatus,
} from '../../src/sources/etcd/responses.js';

// As etcd3 1.1.2 decodes it from etcd 3.4/3.6: every uint64 a decimal string.
const STATUS = {
  errors: [],
  header: {
    cluster_id: '10955309159033285570',
    member_id: '18446744073709551615',
    revision: '9007199254740993',
    raft_term: '2',
  },
  version: '3.6.8',
  dbSize: '20480',
  leader: '18446744073709551615',
  raftIndex: '9007199254740993',
  raftTerm: '2',
  raftAppliedIndex: '4',
  dbSizeInUse: '16384',
  isLearner: false,
};

describe('etcd answers', () => {
  it('keeps uint64 IDs and indexes as exact decimal strings and sizes as numbers', () => {
    const parsed = parseStatus(STATUS);
    expect(parsed).toEqual({
      ok: true,
      clusterId: '10955309159033285570',
      status: {
        clusterId: '10955309159033285570',
        memberId: '18446744073709551615',
        leaderId: '18446744073709551615',
        version: '3.6.8',
        dbSize: 20480,
        dbSizeInUse: 16384,
        dbSizeQuota: undefined,
        raftTerm: '2',
        raftIndex: '9007199254740993',
        raftAppliedIndex: '4',
        revision: '9007199254740993',
        isLearner: false,
        errors: [],
      },
    });
  });

  it('reads dbSizeQuota when a client decodes it, and treats 0 as not reported', () => {
    const withQuota = parseStatus({ ...STATUS, dbSizeQuota: '8589934592' });
    expect(withQuota.ok && withQuota.status.dbSizeQuota).toBe(8589934592);
    const zero = parseStatus({ ...STATUS, dbSizeQuota: '0' });
    expect(zero.ok && zero.status.dbSizeQuota).toBeUndefined();
  });

  it('refuses a status without the fields it needs', () => {
    const parsed = parseStatus({ version: '3.6.8' });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(/^unexpected status answer/);
  });

  it('reads a member list with unstarted members and learners', () => {
    const parsed = parseMemberList({
      members: [
        {
          ID: '18446744073709551615',
          name: 'a',
          peerURLs: ['https://10.0.0.1:2380'],
          clientURLs: ['https://10.0.0.1:2379'],
          isLearner: false,
        },
        { ID: '12', name: '', peerURLs: ['https://10.0.0.2:2380'], clientURLs: [], isLearner: true },
      ],
      header: { cluster_id: '1' },
    });
    expect(parsed.ok && parsed.list.members.map((m) => [m.ID, m.name, m.isLearner])).toEqual([
      ['18446744073709551615', 'a', false],
      ['12', '', true],
    ]);
  });

  it('reads alarms by name or number and ignores NONE', () => {
    const parsed = parseAlarms({
      alarms: [
        { memberID: '18446744073709551615', alarm: 'NOSPACE' },
        { memberID: '2', alarm: 2 },
        { memberID: '3', alarm: 'NONE' },
      ],
    });
    expect(parsed).toEqual({
      ok: true,
      alarms: [
        { memberId: '18446744073709551615', alarm: 'NOSPACE' },
        { memberId: '2', alarm: 'CORRUPT' },
      ],
    });
    expect(parseAlarms({ alarms: [], header: null })).toEqual({ ok: true, alarms: [] });
  });

  it('finds alarms in Status errors', () => {
    expect(
      alarmsFromStatusErrors(['etcdserver: no leader', 'memberID:18446744073709551615 alarm:NOSPACE ']),
    ).toEqual([{ memberId: '18446744073709551615', alarm: 'NOSPACE' }]);
  });
});
