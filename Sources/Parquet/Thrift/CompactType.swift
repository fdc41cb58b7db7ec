/// Thrift compact protocol type nibbles.
enum CompactType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, i8 = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, `struct` = 12
}
