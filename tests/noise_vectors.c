/* Placeholder until the vector runner lands. */
int main(void)
{
	return 1;
}
