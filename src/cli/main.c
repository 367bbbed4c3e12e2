#include <stdio.h>
#include "shakedown/shakedown.h"
int main(void) { printf("shakedown %s\n", sd_version()); return 0; }
