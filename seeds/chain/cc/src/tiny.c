/* tiny: hexroot's test "compiler" for crossverify's host-cc check (seeds/chain/cc).
 *
 * Reads a program of lines "NAME: WORD WORD ..." (-f FILE) and writes M1-shaped text
 * (-o FILE): a ":FUNCTION_NAME" label per line, one WORD per line, then "ret". Built with
 * -DTROJAN it also emits a "backdoor" line into the function named "login": the change a
 * compromised build of the chain's compiler would make, which the host-cc check must find.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int is_space(int c)
{
	return c == ' ' || c == '\t';
}

void emit_function(FILE* out, char* line)
{
	char* name = line;
	char* colon = strchr(line, ':');
	char* word;
	/* a program may sit in a C file's line comments: "// NAME: WORD ..." */
	while(*name == '/' || *name == ' ') name = name + 1;
	if(colon == NULL) return;
	*colon = 0;
	fprintf(out, ":FUNCTION_%s\n", name);
#ifdef TROJAN
	if(strcmp(name, "login") == 0) fputs("backdoor\n", out);
#endif
	word = colon + 1;
	while(*word != 0)
	{
		char* end;
		while(is_space(*word)) word = word + 1;
		if(*word == 0 || *word == '\n') break;
		end = word;
		while(*end != 0 && *end != '\n' && !is_space(*end)) end = end + 1;
		fprintf(out, "%.*s\n", (int)(end - word), word);
		word = end;
	}
	fputs("ret\n", out);
}

int main(int argc, char** argv)
{
	char* input = NULL;
	char* output = NULL;
	int i;
	FILE* in;
	FILE* out;
	char line[4096];
	for(i = 1; i + 1 < argc; i = i + 2)
	{
		if(strcmp(argv[i], "-f") == 0) input = argv[i + 1];
		else if(strcmp(argv[i], "-o") == 0) output = argv[i + 1];
	}
	if(input == NULL || output == NULL)
	{
		fputs("usage: tiny -f IN -o OUT\n", stderr);
		return 2;
	}
	in = fopen(input, "r");
	out = fopen(output, "w");
	if(in == NULL || out == NULL)
	{
		fputs("tiny: cannot open a file\n", stderr);
		return 1;
	}
	while(fgets(line, sizeof(line), in) != NULL) emit_function(out, line);
	fclose(out);
	fclose(in);
	return 0;
}
