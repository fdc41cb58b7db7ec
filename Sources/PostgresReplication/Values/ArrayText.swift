/// PostgreSQL's `array_out` text of a binary array (`array_send`: dimensions, NULL flag, element type, then per
/// dimension its size and lower bound, then the elements, each a length (-1 = NULL) and its send form):
/// `{1,NULL,3}`, `{{a,b},{c,d}}`, `[0:1]={5,6}`, `{"a b","NULL","q\"x",""}`, `{}`.
enum ArrayText {
    static func append(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(ValueParseError) {
        var reader = Reader(raw: raw)
        let dimensions = Int(try reader.int32())
        _ = try reader.int32()   // has-NULLs flag: each element's length says it
        let elementType = UInt32(bitPattern: try reader.int32())
        guard dimensions >= 0, dimensions <= 6 else { throw .invalidBinary(type: "array", reason: "\(dimensions) dimensions") }
        guard dimensions > 0 else { out.append(contentsOf: "{}".utf8); return }
        // Sizes, lower bounds and the running index of each dimension, on the stack (no allocation per value).
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * dimensions) { (buffer) throws(ValueParseError) in
            let sizes = UnsafeMutableBufferPointer(rebasing: buffer[0..<dimensions])
            let lowerBounds = UnsafeMutableBufferPointer(rebasing: buffer[dimensions..<(2 * dimensions)])
            let index = UnsafeMutableBufferPointer(rebasing: buffer[(2 * dimensions)...])
            for d in 0..<dimensions {
                sizes[d] = Int(try reader.int32())
                lowerBounds[d] = Int(try reader.int32())
                index[d] = 0
                guard sizes[d] >= 0 else { throw .invalidBinary(type: "array", reason: "negative dimension") }
            }
            try appendElements(&reader, dimensions: dimensions, sizes: sizes, lowerBounds: lowerBounds, index: index,
                               elementType: elementType, to: &out)
        }
        guard reader.isAtEnd else { throw .invalidBinary(type: "array", reason: "trailing bytes") }
    }

    private static func appendElements(_ reader: inout Reader, dimensions: Int, sizes: UnsafeMutableBufferPointer<Int>,
                                       lowerBounds: UnsafeMutableBufferPointer<Int>, index: UnsafeMutableBufferPointer<Int>,
                                       elementType: UInt32, to out: inout [UInt8]) throws(ValueParseError) {
        if lowerBounds.contains(where: { $0 != 1 }) {
            for d in 0..<dimensions {
                out.append(UInt8(ascii: "["))
                DecimalText.appendSigned(Int64(lowerBounds[d]), to: &out)
                out.append(UInt8(ascii: ":"))
                DecimalText.appendSigned(Int64(lowerBounds[d] + sizes[d] - 1), to: &out)
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "="))
        }
        // Elements in row-major order; every index that rolls over closes and reopens a brace.
        var total = 1
        for size in sizes {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            // Every element takes at least its 4-byte length.
            guard !overflow, product <= reader.raw.count / 4 else { throw .invalidBinary(type: "array", reason: "dimensions \(Array(sizes))") }
            total = product
        }
        guard total > 0 else { out.append(contentsOf: "{}".utf8); return }
        for _ in 0..<dimensions { out.append(UInt8(ascii: "{")) }
        for n in 0..<total {
            let length = Int(try reader.int32())
            if length < 0 {
                out.append(contentsOf: "NULL".utf8)
            } else {
                let start = out.count
                try OutputText.appendElement(try reader.bytes(length), typeOID: elementType, to: &out)
                quoteIfNeeded(&out, from: start)
            }
            guard n < total - 1 else { break }
            var d = dimensions - 1, rolled = 0
            while d >= 0 {
                index[d] += 1
                if index[d] < sizes[d] { break }
                index[d] = 0
                rolled += 1
                d -= 1
            }
            for _ in 0..<rolled { out.append(UInt8(ascii: "}")) }
            out.append(UInt8(ascii: ","))
            for _ in 0..<rolled { out.append(UInt8(ascii: "{")) }
        }
        for _ in 0..<dimensions { out.append(UInt8(ascii: "}")) }
    }

    /// Quotes the element text `out[start...]` as `array_out` does when it is empty, `NULL` in any case, or holds
    /// `"`, `\`, `{`, `}`, the delimiter `,` or white space; `"` and `\` get a backslash.
    private static func quoteIfNeeded(_ out: inout [UInt8], from start: Int) {
        let (escapes, special) = InPlaceQuoting.scan(out, from: start) { byte in
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","),
                 UInt8(ascii: " "), 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return true
            default: return false
            }
        }
        let length = out.count - start
        let isNull = length == 4 && out.withUnsafeBufferPointer {
            UnsafeBufferPointer(rebasing: $0[start...]).elementsEqual("null".utf8, by: { $0 | 0x20 == $1 })
        }
        guard special || length == 0 || isNull else { return }
        InPlaceQuoting.quote(&out, from: start, escapes: escapes) { _ in UInt8(ascii: "\\") }
    }

    /// Reads big-endian fields of an array's send form.
    private struct Reader {
        let raw: UnsafeRawBufferPointer
        var offset = 0
        var isAtEnd: Bool { offset == raw.count }

        mutating func int32() throws(ValueParseError) -> Int32 {
            guard offset + 4 <= raw.count else { throw .invalidLength(type: "array", expected: offset + 4, actual: raw.count) }
            defer { offset += 4 }
            return raw.loadBigEndian(fromByteOffset: offset, as: Int32.self)
        }

        mutating func bytes(_ count: Int) throws(ValueParseError) -> UnsafeRawBufferPointer {
            guard offset + count <= raw.count else { throw .invalidLength(type: "array", expected: offset + count, actual: raw.count) }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count)])
        }
    }
}
