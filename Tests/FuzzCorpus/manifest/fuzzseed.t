{
  "committedLSN" : 27160600,
  "formatVersion" : 1,
  "generation" : 2,
  "keyColumns" : [
    "id"
  ],
  "partitioning" : {
    "buckets" : 1,
    "kind" : "hash"
  },
  "parts" : [
    {
      "bytes" : 21203,
      "checksum" : "crc32:81789447",
      "generation" : 2,
      "level" : 0,
      "maxVersion" : 27158752,
      "minVersion" : 27158752,
      "partition" : "h=000",
      "path" : "parts\/h=000\/l0-aaf4f3d5-9b4c-4e71-b5e4-18d2d28fe87d.parquet",
      "rows" : 975,
      "schemaVersion" : 1,
      "tombstones" : 0
    },
    {
      "bytes" : 3424,
      "checksum" : "crc32:767d14f9",
      "generation" : 2,
      "level" : 0,
      "maxVersion" : 27160600,
      "minVersion" : 27160472,
      "partition" : "h=000",
      "path" : "parts\/h=000\/l0-caa0be29-82a2-4ba5-866f-31b788d66b35.parquet",
      "rows" : 6,
      "schemaVersion" : 2,
      "tombstones" : 1
    }
  ],
  "schemaVersions" : [
    {
      "columns" : [
        {
          "name" : "id",
          "nullable" : true,
          "type" : "int64"
        },
        {
          "name" : "ch",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "by",
          "nullable" : true,
          "type" : "bytes"
        },
        {
          "name" : "d",
          "nullable" : true,
          "type" : "date"
        },
        {
          "name" : "ts",
          "nullable" : true,
          "type" : "timestamp"
        },
        {
          "name" : "tz",
          "nullable" : true,
          "type" : "timestamptz"
        },
        {
          "name" : "u",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "j",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "arr",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "tm",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "iv",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "s",
          "nullable" : true,
          "type" : "int16"
        },
        {
          "name" : "big",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "extra",
          "nullable" : true,
          "type" : "int32"
        },
        {
          "name" : "i",
          "nullable" : true,
          "type" : "int32"
        },
        {
          "name" : "f4",
          "nullable" : true,
          "type" : "float32"
        },
        {
          "name" : "f8",
          "nullable" : true,
          "type" : "float64"
        },
        {
          "name" : "n",
          "nullable" : true,
          "type" : "decimal(12,3)"
        },
        {
          "name" : "b",
          "nullable" : true,
          "type" : "bool"
        },
        {
          "name" : "tx",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "vc",
          "nullable" : true,
          "type" : "string"
        }
      ],
      "version" : 1
    },
    {
      "columns" : [
        {
          "name" : "id",
          "nullable" : true,
          "type" : "int64"
        },
        {
          "name" : "s",
          "nullable" : true,
          "type" : "int16"
        },
        {
          "name" : "i",
          "nullable" : true,
          "type" : "int32"
        },
        {
          "name" : "f4",
          "nullable" : true,
          "type" : "float32"
        },
        {
          "name" : "f8",
          "nullable" : true,
          "type" : "float64"
        },
        {
          "name" : "n",
          "nullable" : true,
          "type" : "decimal(12,3)"
        },
        {
          "name" : "b",
          "nullable" : true,
          "type" : "bool"
        },
        {
          "name" : "tx",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "vc",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "ch",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "by",
          "nullable" : true,
          "type" : "bytes"
        },
        {
          "name" : "d",
          "nullable" : true,
          "type" : "date"
        },
        {
          "name" : "ts",
          "nullable" : true,
          "type" : "timestamp"
        },
        {
          "name" : "tz",
          "nullable" : true,
          "type" : "timestamptz"
        },
        {
          "name" : "u",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "j",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "arr",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "tm",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "iv",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "big",
          "nullable" : true,
          "type" : "string"
        },
        {
          "name" : "extra",
          "nullable" : true,
          "type" : "int32"
        }
      ],
      "version" : 2
    }
  ],
  "sequence" : 4,
  "table" : "fuzzseed.t"
}