#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CRC32 {
    /// CRC-32 and size of the file at `path`, read in 1 MiB blocks (to verify a part against the checksum
    /// `ParquetFileWriter.close()` reported).
    public static func ofFile(atPath path: String) throws -> (crc32: UInt32, byteCount: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var crc = CRC32()
        var total: Int64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError.io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            buf.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += Int64(n)
        }
        return (crc.value, total)
    }
}
