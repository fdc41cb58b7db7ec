/// Quotes the text at the end of an output buffer where it stands, as `array_out` and `range_out` quote elements
/// and bounds: the buffer grows by the quotes and escapes, and the text moves right to left into place. Working in
/// place matters: the buffer is usually a whole column's arena, and building the quoted text aside and splicing it in
/// (with a slice of the buffer still alive) copied the arena once per quoted value.
enum InPlaceQuoting {
    /// Wraps `out[start...]` in double quotes; every `"` and `\` in it is preceded by `escape` (a backslash for
    /// arrays; for ranges the byte itself, which doubles it). `escapes` is the number of such bytes in the text.
    static func quote(_ out: inout [UInt8], from start: Int, escapes: Int, escape: (UInt8) -> UInt8) {
        let length = out.count - start
        out.append(contentsOf: repeatElement(0, count: escapes + 2))
        out.withUnsafeMutableBufferPointer { p in
            var w = start + length + escapes + 1
            p[w] = UInt8(ascii: "\"")
            w -= 1
            var r = start + length - 1
            while r >= start {
                let byte = p[r]
                p[w] = byte
                w -= 1
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    p[w] = escape(byte)
                    w -= 1
                }
                r -= 1
            }
            p[w] = UInt8(ascii: "\"")   // w == start here
        }
    }

    /// The number of `"` and `\` bytes in `out[start...]`, and whether any byte of it satisfies `special`.
    static func scan(_ out: [UInt8], from start: Int, special: (UInt8) -> Bool) -> (escapes: Int, special: Bool) {
        out.withUnsafeBufferPointer { all in
            var escapes = 0, found = false
            for byte in UnsafeBufferPointer(rebasing: all[start...]) {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { escapes += 1 }
                if special(byte) { found = true }
            }
            return (escapes, found)
        }
    }
}
