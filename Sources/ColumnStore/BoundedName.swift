/// Directory names that fit every filesystem (255 bytes a name), whatever the text they are made of.
enum BoundedName {
    /// Longest name kept as it is; longer ones are cut and hashed (to `hashedPrefixBytes` + 17 bytes or a little
    /// less), so the two kinds never share a length and cannot collide.
    static let maxPlainBytes = 240
    static let hashedPrefixBytes = 232

    /// `plain` when it has at most 240 bytes; else its first ≤ 232 bytes, cut between characters and never inside a
    /// `%XX` escape, + `~` + 16 hex digits of FNV-1a-64 over `identity` (the full text the name stands for): 241–249
    /// bytes. A hashed name is longer than any plain one, so the two never collide.
    static func bounded(_ plain: String, identity: String) -> String {
        guard plain.utf8.count > maxPlainBytes else { return plain }
        var prefix = "", bytes = 0
        var i = plain.startIndex
        while i < plain.endIndex {
            let next = plain[i] == "%" ? plain.index(i, offsetBy: 3, limitedBy: plain.endIndex) ?? plain.endIndex
                                       : plain.unicodeScalars.index(after: i)
            let unit = plain[i..<next]
            if bytes + unit.utf8.count > hashedPrefixBytes { break }
            prefix += unit
            bytes += unit.utf8.count
            i = next
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in identity.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return prefix + "~" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
