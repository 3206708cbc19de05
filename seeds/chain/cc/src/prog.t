main: push_eax call_login pop_ebx
login: mov_eax,[esp] test_eax,eax
exit: mov_ebx,eax int_80
