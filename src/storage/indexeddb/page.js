// One page of an index, read with a cursor (src/storage/indexeddb/page.rs): the first `skip`
// entries are passed over with `advance` (their records are not read), then up to `take`
// records are read. With `jobType`, only records of that type count (each visited record's
// body is read to tell), and `skip` passes over matching records. Kept small and
// dependency-free; wasm-bindgen copies it into pkg/snippets/.

/** The job type in a stored record's JSON body `r`, or undefined. */
function typeOf(record) {
  try {
    return typeof record.r === 'string' ? JSON.parse(record.r).jobType : undefined;
  } catch (_) {
    return undefined;
  }
}

/**
 * Resolves with `[records, visited]`: the page's records, in the index's order (`direction`
 * 'next' or 'prev'), and how many records the cursor read.
 */
export function wjqPage(index, range, direction, skip, take, jobType) {
  return new Promise((resolve, reject) => {
    const records = [];
    let visited = 0;
    let advanced = jobType !== undefined || skip === 0;
    const req = index.openCursor(range, direction);
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor || records.length >= take) {
        resolve([records, visited]);
        return;
      }
      if (!advanced) {
        advanced = true;
        cursor.advance(skip);
        return;
      }
      const value = cursor.value;
      visited++;
      if (jobType === undefined || typeOf(value) === jobType) {
        if (jobType !== undefined && skip > 0) skip--;
        else records.push(value);
      }
      if (records.length >= take) resolve([records, visited]);
      else cursor.continue();
    };
  });
}

/**
 * Deletes the records of `index` in `range` beyond the first `keep` in 'prev' order (the
 * latest by the index's order), the first `keep` passed over without being read. Resolves
 * with how many were deleted.
 */
export function wjqTrim(index, range, keep) {
  return new Promise((resolve, reject) => {
    let deleted = 0;
    let advanced = keep === 0;
    const req = index.openCursor(range, 'prev');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor) {
        resolve(deleted);
        return;
      }
      if (!advanced) {
        advanced = true;
        cursor.advance(keep);
        return;
      }
      cursor.delete();
      deleted++;
      cursor.continue();
    };
  });
}
