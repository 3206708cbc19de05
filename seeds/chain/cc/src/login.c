/* login.c, the program of hexroot's ddc test chain (seeds/chain/cc/ddc.kaem).
 *
 * A C file whose line comments hold a program in tiny's language, so that the chain's
 * compile step (tiny) reads C, as a real compiler step does. tiny turns the comment line
 * below into M1 (a FUNCTION_login label and one instruction name per line), M1 and hex2
 * make an amd64 Linux program of it that exits with status 0. A tiny built with -DTROJAN
 * adds a "backdoor" instruction to the function named login, which crossverify ddc must
 * find by comparing the chain's program with the one a gcc-built tiny makes.
 */
// login: xor_edi,edi mov_eax,imm32 %60 syscall
int main(void) { return 0; }
