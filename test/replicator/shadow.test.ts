import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShadowFile } from '../../src/replicator/shadow.js';
import { frameSize, parseWALHeader, WAL_HEADER_SIZE } from '../../src/replicator/wal.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

/** shadowOfRealWAL starts a shadow file from the header of a real SQLite WAL. */
function shadowOfRealWAL(): { shadow: ShadowFile; frames: Uint8Array } {
  const dir = tmpDir();
  const db = openWAL(path.join(dir, 'app.db'));
  const wal = fs.readFileSync(path.join(dir, 'app.db-wal'));
  db.close();
  const shadow = ShadowFile.create(path.join(dir, '.app.db-lifeboat'), '0123456789abcdef', 0, wal.subarray(0, WAL_HEADER_SIZE));
  const frames = wal.subarray(WAL_HEADER_SIZE, WAL_HEADER_SIZE + frameSize(parseWALHeader(wal)!.pageSize));
  return { shadow, frames };
}

describe('ShadowFile.makeDurable', () => {
  it('a new file is not durable until fsynced with its entries; appended bytes make it undurable again', () => {
    const { shadow, frames } = shadowOfRealWAL();
    try {
      expect(shadow.durable).toBe(false);
      shadow.makeDurable();
      expect(shadow.durable).toBe(true);
      expect(shadow.durableSize).toBe(WAL_HEADER_SIZE);
      shadow.append(frames, shadow.checksum);
      expect(shadow.durable).toBe(false);
      shadow.makeDurable();
      expect(shadow.durableSize).toBe(WAL_HEADER_SIZE + frames.length);
    } finally {
      shadow.close();
    }
  });
});
