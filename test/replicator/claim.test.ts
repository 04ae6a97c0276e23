/** claim: the adoption and race rules (pure), on claim listings as a store returns them. */
import { describe, expect, it } from 'vitest';
import { adoptRefusal, claimName, followsName, parseClaims, parseFollows, raceRefusal, releaseName } from '../../src/replicator/claim.js';

const W1 = '1111111111111111';
const W2 = '2222222222222222';
const at = (index: number, offset: number) => ({ index, offset });

describe('parseClaims', () => {
  it('pairs each release with its claim and ignores other names', () => {
    const names = [claimName(at(1, 0x20), W1), releaseName(at(1, 0x20), W1, at(2, 0x1000)), claimName(at(2, 0x1000), W2), 'x.json', `${claimName(at(9, 9), W1)}.tmp`];
    expect(parseClaims(names)).toEqual([
      { name: claimName(at(1, 0x20), W1), at: at(1, 0x20), writer: W1, released: at(2, 0x1000) },
      { name: claimName(at(2, 0x1000), W2), at: at(2, 0x1000), writer: W2 },
    ]);
  });
});

describe('parseFollows', () => {
  it('returns the followed generations and ignores claims, releases and other names', () => {
    const g = 'abcdef0123456789';
    const names = [claimName(at(0, 0), W1), followsName(g), releaseName(at(0, 0), W1, at(1, 0)), `${followsName(W2)}.tmp`, 'ABCDEF0123456789.follows', followsName(W2)];
    expect(parseFollows(names)).toEqual([g, W2]);
    expect(parseClaims([followsName(g)])).toEqual([]);
  });
});

describe('adoptRefusal', () => {
  it('allows a generation without claims (Litestream, older Lifeboat)', () => {
    expect(adoptRefusal([], at(3, 0x40))).toBeUndefined();
  });

  it('allows it when the latest claim was released exactly where the replica ends', () => {
    const claims = parseClaims([claimName(at(0, 0), W1), releaseName(at(0, 0), W1, at(3, 0x40))]);
    expect(adoptRefusal(claims, at(3, 0x40))).toBeUndefined();
  });

  it('refuses while the latest claim is not released: its writer runs, or was killed', () => {
    const claims = parseClaims([claimName(at(0, 0), W1), releaseName(at(0, 0), W1, at(3, 0x40)), claimName(at(3, 0x40), W2)]);
    expect(adoptRefusal(claims, at(3, 0x40))).toBe(`writer ${W2} claimed it at 00000003_00000040 and has not released it (still running, or killed)`);
  });

  it('refuses when the replica grew after the release (a writer without claims)', () => {
    const claims = parseClaims([claimName(at(0, 0), W1), releaseName(at(0, 0), W1, at(3, 0x40))]);
    expect(adoptRefusal(claims, at(3, 0x80))).toMatch(/stopped at 00000003_00000040 but the replica ends at 00000003_00000080: written since/);
  });
});

describe('raceRefusal', () => {
  it('loses to another unreleased claim at the same position, or any claim beyond it', () => {
    const mine = claimName(at(3, 0x40), W1);
    expect(raceRefusal(parseClaims([mine]), at(3, 0x40), W1)).toBeUndefined();
    expect(raceRefusal(parseClaims([mine, claimName(at(3, 0x40), W2)]), at(3, 0x40), W1)).toMatch(new RegExp(`writer ${W2}`));
    expect(raceRefusal(parseClaims([mine, claimName(at(4, 0), W2)]), at(3, 0x40), W1)).toMatch(/00000004_00000000/);
  });

  it('ignores a released claim at the same position (its writer stopped without writing)', () => {
    const names = [claimName(at(3, 0x40), W2), releaseName(at(3, 0x40), W2, at(3, 0x40)), claimName(at(3, 0x40), W1)];
    expect(raceRefusal(parseClaims(names), at(3, 0x40), W1)).toBeUndefined();
  });
});
