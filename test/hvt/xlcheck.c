/*
 * Parse a Xen guest configuration with Xen's own parser (libxlutil, what
 * `xl create` uses) and print its boot settings, disks and vifs, one per line
 * (a vif as written: xl, not libxlutil, parses its fields).
 * Exits 1 when the file does not parse or a setting is missing.
 */
#include <stdio.h>
#include <string.h>
#include <libxl.h>
#include <libxlutil.h>

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: xlcheck FILE.xl\n"); return 2; }
  XLU_Config *cfg = xlu_cfg_init(stderr, argv[1]);
  if (!cfg || xlu_cfg_readfile(cfg, argv[1])) return 1;
  const char *keys[] = { "name", "type", "kernel", "ramdisk", "cmdline", 0 };
  for (int i = 0; keys[i]; i++) {
    const char *value;
    if (xlu_cfg_get_string(cfg, keys[i], &value, 0)) { fprintf(stderr, "no %s\n", keys[i]); return 1; }
    printf("%s=%s\n", keys[i], value);
  }
  long memory;
  if (xlu_cfg_get_long(cfg, "memory", &memory, 0)) { fprintf(stderr, "no memory\n"); return 1; }
  printf("memory=%ld\n", memory);
  XLU_ConfigList *disks;
  int count = 0;
  if (!xlu_cfg_get_list(cfg, "disk", &disks, &count, 0)) {
    for (int i = 0; i < count; i++) {
      const char *spec = xlu_cfg_get_listitem(disks, i);
      libxl_device_disk disk;
      libxl_device_disk_init(&disk);
      if (xlu_disk_parse(cfg, 1, &spec, &disk)) { fprintf(stderr, "bad disk %s\n", spec); return 1; }
      printf("disk=%s %s %s\n", disk.vdev, disk.pdev_path, disk.readwrite ? "rw" : "ro");
    }
  }
  XLU_ConfigList *vifs;
  if (!xlu_cfg_get_list(cfg, "vif", &vifs, &count, 0)) {
    for (int i = 0; i < count; i++) printf("vif=%s\n", xlu_cfg_get_listitem(vifs, i));
  }
  return 0;
}
