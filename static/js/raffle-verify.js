/* A raffle's draw, recomputed in the browser exactly as giveaways/draw.py does it (DESIGN §7, docs/raffles.md).
 *
 * Pure JavaScript on purpose: crypto.subtle only exists on secure origins, and the check must work anywhere.
 * - SHA-256 and HMAC-SHA256 over UTF-8 bytes (HMAC key = the seed's ASCII bytes, block size 64);
 * - entries with at least one ticket, ordered by uid in Unicode code-point order (not JS's UTF-16 order);
 * - digest = SHA-256 hex of one "uid:tickets\n" line per entry;
 * - winner k: r = int(HMAC-SHA256(seed, "digest:k"), 16) mod (tickets left), BigInt arithmetic.
 *
 * window.RaffleVerify = {sha256Hex, hmacSha256Hex, draw, render}. On a page with the JSON data island
 * #raffle-verify-data and an element #raffle-verify-result, the checks and the steps are rendered there
 * (textContent only: uids are untrusted).
 */
(function () {
  "use strict";

  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  /* The UTF-8 bytes of a string (surrogate pairs joined; a lone surrogate becomes U+FFFD, as TextEncoder does). */
  function utf8(str) {
    var out = [];
    for (var i = 0; i < str.length; i++) {
      var c = str.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
        var d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  }

  function hex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return s;
  }

  /* SHA-256 (FIPS 180-4) of an array of bytes; returns 32 bytes. */
  function sha256Bytes(bytes) {
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var n = bytes.length, bitsHigh = Math.floor(n / 0x20000000), bitsLow = (n * 8) >>> 0;
    var padded = bytes.slice();
    padded.push(0x80);
    while (padded.length % 64 !== 56) padded.push(0);
    padded.push((bitsHigh >>> 24) & 255, (bitsHigh >>> 16) & 255, (bitsHigh >>> 8) & 255, bitsHigh & 255,
      (bitsLow >>> 24) & 255, (bitsLow >>> 16) & 255, (bitsLow >>> 8) & 255, bitsLow & 255);
    var w = new Array(64);
    for (var off = 0; off < padded.length; off += 64) {
      for (var t = 0; t < 16; t++) {
        var j = off + t * 4;
        w[t] = ((padded[j] << 24) | (padded[j + 1] << 16) | (padded[j + 2] << 8) | padded[j + 3]) >>> 0;
      }
      for (t = 16; t < 64; t++) {
        var x = w[t - 15], y = w[t - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
      }
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (t = 0; t < 64; t++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var ch = (e & f) ^ (~e & g);
        var t1 = (h + S1 + ch + K[t] + w[t]) >>> 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var maj = (a & b) ^ (a & c) ^ (b & c);
        var t2 = (S0 + maj) >>> 0;
        h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      H[0] = (H[0] + a) >>> 0; H[1] = (H[1] + b) >>> 0; H[2] = (H[2] + c) >>> 0; H[3] = (H[3] + d) >>> 0;
      H[4] = (H[4] + e) >>> 0; H[5] = (H[5] + f) >>> 0; H[6] = (H[6] + g) >>> 0; H[7] = (H[7] + h) >>> 0;
    }
    var out = [];
    for (var i = 0; i < 8; i++) out.push((H[i] >>> 24) & 255, (H[i] >>> 16) & 255, (H[i] >>> 8) & 255, H[i] & 255);
    return out;
  }

  function sha256Hex(str) {
    return hex(sha256Bytes(utf8(String(str))));
  }

  /* HMAC-SHA256 (RFC 2104): block size 64, a longer key is hashed first. */
  function hmacSha256Hex(keyStr, msgStr) {
    var key = utf8(String(keyStr));
    if (key.length > 64) key = sha256Bytes(key);
    var inner = [], outer = [];
    for (var i = 0; i < 64; i++) {
      var kb = i < key.length ? key[i] : 0;
      inner.push(kb ^ 0x36);
      outer.push(kb ^ 0x5c);
    }
    return hex(sha256Bytes(outer.concat(sha256Bytes(inner.concat(utf8(String(msgStr)))))));
  }

  /* Compare two strings by Unicode code points (Python's str order), not by UTF-16 code units. */
  function compareCodePoints(a, b) {
    var i = 0, j = 0;
    while (i < a.length && j < b.length) {
      var ca = a.codePointAt(i), cb = b.codePointAt(j);
      if (ca !== cb) return ca < cb ? -1 : 1;
      i += ca > 0xffff ? 2 : 1;
      j += cb > 0xffff ? 2 : 1;
    }
    if (i < a.length) return 1;
    if (j < b.length) return -1;
    return 0;
  }

  function entriesOrdered(entries) {
    return entries
      .map(function (e) { return { uid: String(e.uid), tickets: Number(e.tickets) }; })
      .filter(function (e) { return e.tickets > 0; })
      .sort(function (x, y) { return compareCodePoints(x.uid, y.uid); });  // stable, like Python's sorted
  }

  function draw(seed, entries, winnersCount) {
    seed = String(seed);
    var remaining = entriesOrdered(entries || []);
    var digest = sha256Hex(remaining.map(function (e) { return e.uid + ":" + e.tickets + "\n"; }).join(""));
    var steps = [], winners = [];
    var rounds = Math.min(Number(winnersCount) || 0, remaining.length);
    for (var k = 1; k <= rounds; k++) {
      var mac = hmacSha256Hex(seed, digest + ":" + k);
      var number = BigInt("0x" + mac);
      var total = remaining.reduce(function (sum, e) { return sum + BigInt(e.tickets); }, 0n);
      var pick = number % total, r = pick;
      for (var i = 0; i < remaining.length; i++) {
        var t = BigInt(remaining[i].tickets);
        if (r < t) {
          var winner = remaining.splice(i, 1)[0];
          winners.push(winner);
          steps.push({
            k: k, hmac: mac, number: number.toString(), total: Number(total), pick: pick.toString(),
            winner: { uid: winner.uid, tickets: winner.tickets }
          });
          break;
        }
        r -= t;
      }
    }
    return { seedHash: sha256Hex(seed), digest: digest, steps: steps, winners: winners };
  }

  /* --- The verify page --- */

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function check(list, ok, name, detail) {
    var item = el("li", (ok ? "✓ " : "✗ ") + name + (detail ? ": " + detail : ""), ok ? "check ok" : "check bad");
    item.setAttribute("data-ok", ok ? "true" : "false");
    list.appendChild(item);
    return ok;
  }

  function render(data, out) {
    while (out.firstChild) out.removeChild(out.firstChild);
    if (data.server_seed === null || data.server_seed === undefined || data.server_seed === "") {
      out.appendChild(el("p", "The seed is revealed at the draw: the check is possible after the draw. " +
        "Its published hash (SHA-256) is " + (data.server_seed_hash || "not known") + ".", "verify-pending"));
      out.setAttribute("data-state", "pending");
      return null;
    }
    var result = draw(data.server_seed, data.entries || [], data.winners_count);
    var published = (data.winners || []).slice().sort(function (a, b) { return a.position - b.position; })
      .map(function (w) { return String(w.uid); });
    var computed = result.winners.map(function (w) { return w.uid; });
    var winnersOk = published.length === computed.length && published.every(function (uid, i) {
      return uid === computed[i];
    });
    var list = el("ul", null, "verify-checks");
    var ok = check(list, result.seedHash === data.server_seed_hash,
      result.seedHash === data.server_seed_hash ? "The seed matches the hash published before the raffle"
        : "The seed does NOT match the hash published before the raffle",
      "SHA-256(seed) = " + result.seedHash);
    ok = check(list, result.digest === data.entries_digest,
      result.digest === data.entries_digest ? "The entry list matches the published digest"
        : "The entry list does NOT match the published digest",
      "computed " + result.digest + (result.digest === data.entries_digest ? "" : ", published " +
        (data.entries_digest || "none"))) && ok;
    ok = check(list, winnersOk,
      winnersOk ? "The winners match the draw" : "The winners do NOT match the draw",
      "computed " + (computed.join(", ") || "no winners") +
        (winnersOk ? "" : "; published " + (published.join(", ") || "no winners"))) && ok;
    out.appendChild(list);

    if (result.steps.length) {
      var wrap = el("div", null, "table-wrap");
      var table = el("table", null, "verify-steps");
      table.appendChild(el("caption", "The draw, step by step"));
      var head = el("thead"), row = el("tr");
      ["k", "HMAC-SHA256(seed, digest:k)", "Number mod tickets left", "Ticket picked", "Winner"].forEach(
        function (title) {
          var th = el("th", title);
          th.setAttribute("scope", "col");
          row.appendChild(th);
        });
      head.appendChild(row);
      table.appendChild(head);
      var body = el("tbody");
      result.steps.forEach(function (step) {
        var tr = el("tr");
        tr.appendChild(el("td", step.k));
        tr.appendChild(el("td", step.hmac, "mono"));
        tr.appendChild(el("td", step.number + " mod " + step.total, "mono"));
        tr.appendChild(el("td", step.pick));
        var n = step.winner.tickets;
        tr.appendChild(el("td", step.winner.uid + " (" + n + (n === 1 ? " ticket)" : " tickets)")));
        body.appendChild(tr);
      });
      table.appendChild(body);
      wrap.appendChild(table);
      out.appendChild(wrap);
    } else {
      out.appendChild(el("p", "No entries: no winners to draw."));
    }
    out.setAttribute("data-state", ok ? "ok" : "mismatch");
    return result;
  }

  function start() {
    var island = document.getElementById("raffle-verify-data");
    var out = document.getElementById("raffle-verify-result");
    if (!island || !out) return;
    try {
      render(JSON.parse(island.textContent), out);
    } catch (err) {
      while (out.firstChild) out.removeChild(out.firstChild);
      out.appendChild(el("p", "The check could not run: " + (err && err.message ? err.message : err)));
      out.setAttribute("data-state", "error");
    }
  }

  window.RaffleVerify = { sha256Hex: sha256Hex, hmacSha256Hex: hmacSha256Hex, draw: draw, render: render };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
