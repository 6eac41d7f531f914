{
  "targets": [
    {
      "target_name": "tcp_options",
      "sources": ["tcp-options.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
