{
  "targets": [
    {
      "target_name": "reaper",
      "sources": ["native/reaper.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
