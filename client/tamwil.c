/* Placeholder until the client program lands. */
int main(void)
{
	return 1;
}
