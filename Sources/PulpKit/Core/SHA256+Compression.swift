// The SHA-256 compression function (FIPS 180-4, section 6.2.2), the hot loop of every digest.
//
// The 64 rounds are unrolled with their constants as literals and the eight working variables in
// locals: each call of `sha256Round` names them in rotated order instead of shifting eight values.
// The message schedule lives in sixteen locals `w0`...`w15`, each overwritten with W[t] just before
// round t uses it (W[t] depends only on W[t-2], W[t-7], W[t-15] and W[t-16]). Words are loaded
// big-endian straight from the caller's memory, so many blocks are hashed without copying.
// Two rewrites save instructions on x86-64 without BMI2 (about 6% faster): Maj(a, b, c) is
// ((a ^ b) & (b ^ c)) ^ b, where b ^ c is the previous round's a ^ b, carried in `bXorC`; and each
// big Sigma is computed as nested rotations, rotr(rotr(rotr(x, p) ^ x, q) ^ x, r), which needs fewer
// copies of x in registers than three independent rotations.

extension SHA256 {
    /// The eight 32-bit words H0...H7 of the running hash.
    struct State: Sendable, Equatable {
        var h0: UInt32 = 0x6a09_e667
        var h1: UInt32 = 0xbb67_ae85
        var h2: UInt32 = 0x3c6e_f372
        var h3: UInt32 = 0xa54f_f53a
        var h4: UInt32 = 0x510e_527f
        var h5: UInt32 = 0x9b05_688c
        var h6: UInt32 = 0x1f83_d9ab
        var h7: UInt32 = 0x5be0_cd19

        /// Folds `count` consecutive 64-byte blocks starting at `blocks` into the hash; any alignment.
        mutating func compress(_ blocks: UnsafeRawPointer, count: Int) {
            var block = blocks
            var a = h0
            var b = h1
            var c = h2
            var d = h3
            var e = h4
            var f = h5
            var g = h6
            var h = h7
            for _ in 0..<count {
                var bXorC = b ^ c
                var w0 = block.loadUnaligned(fromByteOffset: 0, as: UInt32.self).bigEndian
                var w1 = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).bigEndian
                var w2 = block.loadUnaligned(fromByteOffset: 8, as: UInt32.self).bigEndian
                var w3 = block.loadUnaligned(fromByteOffset: 12, as: UInt32.self).bigEndian
                var w4 = block.loadUnaligned(fromByteOffset: 16, as: UInt32.self).bigEndian
                var w5 = block.loadUnaligned(fromByteOffset: 20, as: UInt32.self).bigEndian
                var w6 = block.loadUnaligned(fromByteOffset: 24, as: UInt32.self).bigEndian
                var w7 = block.loadUnaligned(fromByteOffset: 28, as: UInt32.self).bigEndian
                var w8 = block.loadUnaligned(fromByteOffset: 32, as: UInt32.self).bigEndian
                var w9 = block.loadUnaligned(fromByteOffset: 36, as: UInt32.self).bigEndian
                var w10 = block.loadUnaligned(fromByteOffset: 40, as: UInt32.self).bigEndian
                var w11 = block.loadUnaligned(fromByteOffset: 44, as: UInt32.self).bigEndian
                var w12 = block.loadUnaligned(fromByteOffset: 48, as: UInt32.self).bigEndian
                var w13 = block.loadUnaligned(fromByteOffset: 52, as: UInt32.self).bigEndian
                var w14 = block.loadUnaligned(fromByteOffset: 56, as: UInt32.self).bigEndian
                var w15 = block.loadUnaligned(fromByteOffset: 60, as: UInt32.self).bigEndian

                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0x428a_2f98 &+ w0)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0x7137_4491 &+ w1)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0xb5c0_fbcf &+ w2)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0xe9b5_dba5 &+ w3)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0x3956_c25b &+ w4)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0x59f1_11f1 &+ w5)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0x923f_82a4 &+ w6)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0xab1c_5ed5 &+ w7)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0xd807_aa98 &+ w8)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0x1283_5b01 &+ w9)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0x2431_85be &+ w10)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0x550c_7dc3 &+ w11)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0x72be_5d74 &+ w12)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0x80de_b1fe &+ w13)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0x9bdc_06a7 &+ w14)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0xc19b_f174 &+ w15)
                w0 &+= smallSigma0(w1) &+ w9 &+ smallSigma1(w14)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0xe49b_69c1 &+ w0)
                w1 &+= smallSigma0(w2) &+ w10 &+ smallSigma1(w15)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0xefbe_4786 &+ w1)
                w2 &+= smallSigma0(w3) &+ w11 &+ smallSigma1(w0)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0x0fc1_9dc6 &+ w2)
                w3 &+= smallSigma0(w4) &+ w12 &+ smallSigma1(w1)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0x240c_a1cc &+ w3)
                w4 &+= smallSigma0(w5) &+ w13 &+ smallSigma1(w2)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0x2de9_2c6f &+ w4)
                w5 &+= smallSigma0(w6) &+ w14 &+ smallSigma1(w3)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0x4a74_84aa &+ w5)
                w6 &+= smallSigma0(w7) &+ w15 &+ smallSigma1(w4)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0x5cb0_a9dc &+ w6)
                w7 &+= smallSigma0(w8) &+ w0 &+ smallSigma1(w5)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0x76f9_88da &+ w7)
                w8 &+= smallSigma0(w9) &+ w1 &+ smallSigma1(w6)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0x983e_5152 &+ w8)
                w9 &+= smallSigma0(w10) &+ w2 &+ smallSigma1(w7)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0xa831_c66d &+ w9)
                w10 &+= smallSigma0(w11) &+ w3 &+ smallSigma1(w8)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0xb003_27c8 &+ w10)
                w11 &+= smallSigma0(w12) &+ w4 &+ smallSigma1(w9)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0xbf59_7fc7 &+ w11)
                w12 &+= smallSigma0(w13) &+ w5 &+ smallSigma1(w10)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0xc6e0_0bf3 &+ w12)
                w13 &+= smallSigma0(w14) &+ w6 &+ smallSigma1(w11)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0xd5a7_9147 &+ w13)
                w14 &+= smallSigma0(w15) &+ w7 &+ smallSigma1(w12)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0x06ca_6351 &+ w14)
                w15 &+= smallSigma0(w0) &+ w8 &+ smallSigma1(w13)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0x1429_2967 &+ w15)
                w0 &+= smallSigma0(w1) &+ w9 &+ smallSigma1(w14)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0x27b7_0a85 &+ w0)
                w1 &+= smallSigma0(w2) &+ w10 &+ smallSigma1(w15)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0x2e1b_2138 &+ w1)
                w2 &+= smallSigma0(w3) &+ w11 &+ smallSigma1(w0)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0x4d2c_6dfc &+ w2)
                w3 &+= smallSigma0(w4) &+ w12 &+ smallSigma1(w1)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0x5338_0d13 &+ w3)
                w4 &+= smallSigma0(w5) &+ w13 &+ smallSigma1(w2)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0x650a_7354 &+ w4)
                w5 &+= smallSigma0(w6) &+ w14 &+ smallSigma1(w3)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0x766a_0abb &+ w5)
                w6 &+= smallSigma0(w7) &+ w15 &+ smallSigma1(w4)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0x81c2_c92e &+ w6)
                w7 &+= smallSigma0(w8) &+ w0 &+ smallSigma1(w5)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0x9272_2c85 &+ w7)
                w8 &+= smallSigma0(w9) &+ w1 &+ smallSigma1(w6)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0xa2bf_e8a1 &+ w8)
                w9 &+= smallSigma0(w10) &+ w2 &+ smallSigma1(w7)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0xa81a_664b &+ w9)
                w10 &+= smallSigma0(w11) &+ w3 &+ smallSigma1(w8)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0xc24b_8b70 &+ w10)
                w11 &+= smallSigma0(w12) &+ w4 &+ smallSigma1(w9)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0xc76c_51a3 &+ w11)
                w12 &+= smallSigma0(w13) &+ w5 &+ smallSigma1(w10)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0xd192_e819 &+ w12)
                w13 &+= smallSigma0(w14) &+ w6 &+ smallSigma1(w11)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0xd699_0624 &+ w13)
                w14 &+= smallSigma0(w15) &+ w7 &+ smallSigma1(w12)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0xf40e_3585 &+ w14)
                w15 &+= smallSigma0(w0) &+ w8 &+ smallSigma1(w13)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0x106a_a070 &+ w15)
                w0 &+= smallSigma0(w1) &+ w9 &+ smallSigma1(w14)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0x19a4_c116 &+ w0)
                w1 &+= smallSigma0(w2) &+ w10 &+ smallSigma1(w15)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0x1e37_6c08 &+ w1)
                w2 &+= smallSigma0(w3) &+ w11 &+ smallSigma1(w0)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0x2748_774c &+ w2)
                w3 &+= smallSigma0(w4) &+ w12 &+ smallSigma1(w1)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0x34b0_bcb5 &+ w3)
                w4 &+= smallSigma0(w5) &+ w13 &+ smallSigma1(w2)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0x391c_0cb3 &+ w4)
                w5 &+= smallSigma0(w6) &+ w14 &+ smallSigma1(w3)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0x4ed8_aa4a &+ w5)
                w6 &+= smallSigma0(w7) &+ w15 &+ smallSigma1(w4)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0x5b9c_ca4f &+ w6)
                w7 &+= smallSigma0(w8) &+ w0 &+ smallSigma1(w5)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0x682e_6ff3 &+ w7)
                w8 &+= smallSigma0(w9) &+ w1 &+ smallSigma1(w6)
                sha256Round(a, b, c, &d, e, f, g, &h, &bXorC, 0x748f_82ee &+ w8)
                w9 &+= smallSigma0(w10) &+ w2 &+ smallSigma1(w7)
                sha256Round(h, a, b, &c, d, e, f, &g, &bXorC, 0x78a5_636f &+ w9)
                w10 &+= smallSigma0(w11) &+ w3 &+ smallSigma1(w8)
                sha256Round(g, h, a, &b, c, d, e, &f, &bXorC, 0x84c8_7814 &+ w10)
                w11 &+= smallSigma0(w12) &+ w4 &+ smallSigma1(w9)
                sha256Round(f, g, h, &a, b, c, d, &e, &bXorC, 0x8cc7_0208 &+ w11)
                w12 &+= smallSigma0(w13) &+ w5 &+ smallSigma1(w10)
                sha256Round(e, f, g, &h, a, b, c, &d, &bXorC, 0x90be_fffa &+ w12)
                w13 &+= smallSigma0(w14) &+ w6 &+ smallSigma1(w11)
                sha256Round(d, e, f, &g, h, a, b, &c, &bXorC, 0xa450_6ceb &+ w13)
                w14 &+= smallSigma0(w15) &+ w7 &+ smallSigma1(w12)
                sha256Round(c, d, e, &f, g, h, a, &b, &bXorC, 0xbef9_a3f7 &+ w14)
                w15 &+= smallSigma0(w0) &+ w8 &+ smallSigma1(w13)
                sha256Round(b, c, d, &e, f, g, h, &a, &bXorC, 0xc671_78f2 &+ w15)

                h0 &+= a
                h1 &+= b
                h2 &+= c
                h3 &+= d
                h4 &+= e
                h5 &+= f
                h6 &+= g
                h7 &+= h
                a = h0
                b = h1
                c = h2
                d = h3
                e = h4
                f = h5
                g = h6
                h = h7
                block += 64
            }
        }
    }
}

/// One round: `d` and `h` are the two words the round changes; the caller rotates the names.
/// `bXorC` holds `b ^ c` on entry and `a ^ b` (the next round's `b ^ c`) on return.
@inline(__always)
private func sha256Round(
    _ a: UInt32,
    _ b: UInt32,
    _ c: UInt32,
    _ d: inout UInt32,
    _ e: UInt32,
    _ f: UInt32,
    _ g: UInt32,
    _ h: inout UInt32,
    _ bXorC: inout UInt32,
    _ constantPlusWord: UInt32
) {
    let choose = g ^ (e & (f ^ g))
    let aXorB = a ^ b
    let majority = (aXorB & bXorC) ^ b
    bXorC = aXorB
    let t1 = h &+ bigSigma1(e) &+ choose &+ constantPlusWord
    d &+= t1
    h = t1 &+ bigSigma0(a) &+ majority
}

@inline(__always)
private func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &>> n) | (x &<< (32 &- n))
}

@inline(__always)
private func bigSigma0(_ x: UInt32) -> UInt32 {
    // rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22)
    rotateRight(rotateRight(rotateRight(x, 9) ^ x, 11) ^ x, 2)
}

@inline(__always)
private func bigSigma1(_ x: UInt32) -> UInt32 {
    // rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25)
    rotateRight(rotateRight(rotateRight(x, 14) ^ x, 5) ^ x, 6)
}

@inline(__always)
private func smallSigma0(_ x: UInt32) -> UInt32 {
    rotateRight(x, 7) ^ rotateRight(x, 18) ^ (x &>> 3)
}

@inline(__always)
private func smallSigma1(_ x: UInt32) -> UInt32 {
    rotateRight(x, 17) ^ rotateRight(x, 19) ^ (x &>> 10)
}
